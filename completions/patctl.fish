complete --keep-order --exclusive --command patctl --arguments "(COMPLETE=fish patctl -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
