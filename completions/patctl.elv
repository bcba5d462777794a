
use builtin;
use str;

set edit:completion:arg-completer[patctl] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'patctl'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'patctl'= {
            cand -c 'Configuration file (or a directory of YAML files)'
            cand --config-file 'Configuration file (or a directory of YAML files)'
            cand -d 'The DCS connect url, e.g. etcd3://127.0.0.1:2379/service'
            cand --dcs-url 'The DCS connect url, e.g. etcd3://127.0.0.1:2379/service'
            cand --dcs 'The DCS connect url, e.g. etcd3://127.0.0.1:2379/service'
            cand --timeout 'Timeout in seconds for each DCS and REST call'
            cand --color 'When to use colours'
            cand -k 'Allow connections to SSL sites without certs'
            cand --insecure 'Allow connections to SSL sites without certs'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand demote-cluster 'Demote cluster to a standby cluster'
            cand dsn 'Generate a dsn for the provided member, defaults to a dsn of the leader'
            cand edit-config 'Edit cluster configuration'
            cand failover 'Failover to a replica'
            cand flush 'Discard scheduled events'
            cand history 'Show the history of failovers/switchovers'
            cand list 'List the Patroni members for a given Patroni'
            cand pause 'Disable auto failover'
            cand promote-cluster 'Promote cluster, make it run standalone'
            cand query 'Query a Patroni PostgreSQL member'
            cand reinit 'Reinitialize cluster member'
            cand reload 'Reload cluster member configuration'
            cand remove 'Remove cluster from DCS'
            cand restart 'Restart cluster member'
            cand resume 'Resume auto failover'
            cand show-config 'Show cluster configuration'
            cand switchover 'Switchover to a replica'
            cand topology 'Prints ASCII topology for given cluster'
            cand version 'Output version of patronictl command or a running Patroni instance'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'patctl;demote-cluster'= {
            cand --host 'Address of the remote node'
            cand --port 'Port of the remote node'
            cand --restore-command 'Command to restore WAL records from the remote primary'
            cand --primary-slot-name 'Name of the slot on the remote node to use for replication'
            cand --force 'Do not ask for confirmation at any point'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'patctl;dsn'= {
            cand -r 'Give a dsn of any member with this role'
            cand --role 'Give a dsn of any member with this role'
            cand -m 'Generate a dsn for this member'
            cand --member 'Generate a dsn for this member'
            cand --group 'Citus group'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'patctl;edit-config'= {
            cand --group 'Citus group'
            cand -s 'Set specific configuration value. Can be specified multiple times'
            cand --set 'Set specific configuration value. Can be specified multiple times'
            cand -p 'Set specific PostgreSQL parameter value. Shorthand for -s postgresql.parameters. Can be specified multiple times'
            cand --pg 'Set specific PostgreSQL parameter value. Shorthand for -s postgresql.parameters. Can be specified multiple times'
            cand --apply 'Apply configuration from file. Use - for stdin'
            cand --replace 'Apply configuration from file, replacing existing configuration. Use - for stdin'
            cand -q 'Do not show changes'
            cand --quiet 'Do not show changes'
            cand --force 'Do not ask for confirmation at any point'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'patctl;failover'= {
            cand --group 'Citus group'
            cand --candidate 'The name of the candidate'
            cand --force 'Do not ask for confirmation at any point'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'patctl;flush'= {
            cand --group 'Citus group'
            cand -r 'Flush only members with this role'
            cand --role 'Flush only members with this role'
            cand --force 'Do not ask for confirmation at any point'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'patctl;history'= {
            cand --group 'Citus group'
            cand -f 'Output format'
            cand --format 'Output format'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'patctl;list'= {
            cand --group 'Citus group'
            cand -f 'Output format'
            cand --format 'Output format'
            cand -w 'Auto update the screen every X seconds'
            cand --watch 'Auto update the screen every X seconds'
            cand -e 'Show some extra information'
            cand --extended 'Show some extra information'
            cand -t 'Print timestamp'
            cand --timestamp 'Print timestamp'
            cand -W 'Auto update the screen every 2 seconds'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'patctl;pause'= {
            cand --group 'Citus group'
            cand --wait 'Wait until pause is applied on all nodes'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'patctl;promote-cluster'= {
            cand --force 'Do not ask for confirmation at any point'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'patctl;query'= {
            cand --group 'Citus group'
            cand --format 'Output format (pretty, tsv, json, yaml)'
            cand -f 'Execute the SQL commands from this file'
            cand --file 'Execute the SQL commands from this file'
            cand -U 'database user name'
            cand --username 'database user name'
            cand -w 'Auto update the screen every X seconds'
            cand --watch 'Auto update the screen every X seconds'
            cand -r 'The role of the query'
            cand --role 'The role of the query'
            cand -m 'Query a specific member'
            cand --member 'Query a specific member'
            cand --delimiter 'The column delimiter'
            cand -c 'The SQL commands to execute'
            cand --command 'The SQL commands to execute'
            cand -d 'database name to connect to'
            cand --dbname 'database name to connect to'
            cand --password 'force password prompt'
            cand -W 'Auto update the screen every 2 seconds'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'patctl;reinit'= {
            cand --group 'Citus group'
            cand --force 'Do not ask for confirmation at any point'
            cand --from-leader 'Get basebackup from leader'
            cand --wait 'Wait until reinitialization completes'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'patctl;reload'= {
            cand --group 'Citus group'
            cand -r 'Reload only members with this role'
            cand --role 'Reload only members with this role'
            cand --force 'Do not ask for confirmation at any point'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'patctl;remove'= {
            cand --group 'Citus group'
            cand -f 'Output format'
            cand --format 'Output format'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'patctl;restart'= {
            cand --group 'Citus group'
            cand -r 'Restart only members with this role'
            cand --role 'Restart only members with this role'
            cand --scheduled 'Timestamp of a scheduled restart in unambiguous format (e.g. ISO 8601)'
            cand --pg-version 'Restart if the PostgreSQL version is less than provided (e.g. 9.5.2)'
            cand --timeout 'Return error and fail over if necessary when restarting takes longer than this'
            cand --any 'Restart a single member only'
            cand --pending 'Restart if pending'
            cand --force 'Do not ask for confirmation at any point'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'patctl;resume'= {
            cand --group 'Citus group'
            cand --wait 'Wait until pause is cleared on all nodes'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'patctl;show-config'= {
            cand --group 'Citus group'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'patctl;switchover'= {
            cand --group 'Citus group'
            cand --leader 'The name of the current leader'
            cand --primary 'The name of the current leader'
            cand --candidate 'The name of the candidate'
            cand --scheduled 'Timestamp of a scheduled switchover in unambiguous format (e.g. ISO 8601)'
            cand --force 'Do not ask for confirmation at any point'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'patctl;topology'= {
            cand --group 'Citus group'
            cand -w 'Auto update the screen every X seconds'
            cand --watch 'Auto update the screen every X seconds'
            cand -W 'Auto update the screen every 2 seconds'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'patctl;version'= {
            cand --group 'Citus group'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'patctl;help'= {
            cand demote-cluster 'Demote cluster to a standby cluster'
            cand dsn 'Generate a dsn for the provided member, defaults to a dsn of the leader'
            cand edit-config 'Edit cluster configuration'
            cand failover 'Failover to a replica'
            cand flush 'Discard scheduled events'
            cand history 'Show the history of failovers/switchovers'
            cand list 'List the Patroni members for a given Patroni'
            cand pause 'Disable auto failover'
            cand promote-cluster 'Promote cluster, make it run standalone'
            cand query 'Query a Patroni PostgreSQL member'
            cand reinit 'Reinitialize cluster member'
            cand reload 'Reload cluster member configuration'
            cand remove 'Remove cluster from DCS'
            cand restart 'Restart cluster member'
            cand resume 'Resume auto failover'
            cand show-config 'Show cluster configuration'
            cand switchover 'Switchover to a replica'
            cand topology 'Prints ASCII topology for given cluster'
            cand version 'Output version of patronictl command or a running Patroni instance'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'patctl;help;demote-cluster'= {
        }
        &'patctl;help;dsn'= {
        }
        &'patctl;help;edit-config'= {
        }
        &'patctl;help;failover'= {
        }
        &'patctl;help;flush'= {
        }
        &'patctl;help;history'= {
        }
        &'patctl;help;list'= {
        }
        &'patctl;help;pause'= {
        }
        &'patctl;help;promote-cluster'= {
        }
        &'patctl;help;query'= {
        }
        &'patctl;help;reinit'= {
        }
        &'patctl;help;reload'= {
        }
        &'patctl;help;remove'= {
        }
        &'patctl;help;restart'= {
        }
        &'patctl;help;resume'= {
        }
        &'patctl;help;show-config'= {
        }
        &'patctl;help;switchover'= {
        }
        &'patctl;help;topology'= {
        }
        &'patctl;help;version'= {
        }
        &'patctl;help;help'= {
        }
    ]
    $completions[$command]
}
