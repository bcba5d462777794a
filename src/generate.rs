//! Shell completions (clap_complete) and man pages (clap_mangen), rendered from the clap tree.
//! The committed `completions/` and `man/` folders are these files; a test regenerates them and fails
//! when they are stale (`UPDATE_GENERATED=1 cargo test generated` rewrites them).

/// The completion scripts: (file name, contents). Each registers patctl's dynamic completion with its
/// shell: at TAB time the shell runs `COMPLETE=<shell> patctl -- <words>`, which completes commands
/// and flags from the clap tree and cluster, member and candidate names from the DCS.
pub fn completions() -> Vec<(String, Vec<u8>)> {
    use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Zsh};
    let shells: [(&dyn EnvCompleter, &str); 5] = [
        (&Bash, "patctl.bash"),
        (&Zsh, "_patctl"),
        (&Fish, "patctl.fish"),
        (&Elvish, "patctl.elv"),
        (&Powershell, "_patctl.ps1"),
    ];
    shells
        .into_iter()
        .map(|(shell, file)| {
            let mut buf = Vec::new();
            shell
                .write_registration("COMPLETE", "patctl", "patctl", "patctl", &mut buf)
                .expect("writing to a Vec");
            (file.to_string(), buf)
        })
        .collect()
}

/// The man pages: `patctl.1` and `patctl-<command>.1` for every command.
pub fn man_pages() -> Vec<(String, Vec<u8>)> {
    let cmd = crate::command();
    let mut out = Vec::new();
    let mut buf = Vec::new();
    if clap_mangen::Man::new(cmd.clone()).render(&mut buf).is_ok() {
        out.push(("patctl.1".to_string(), buf));
    }
    for sub in cmd.get_subcommands() {
        let name = format!("patctl-{}", sub.get_name());
        let page = sub
            .clone()
            .name(name.clone())
            .bin_name(format!("patctl {}", sub.get_name()));
        let mut buf = Vec::new();
        if clap_mangen::Man::new(page).render(&mut buf).is_ok() {
            out.push((format!("{name}.1"), buf));
        }
    }
    out
}
