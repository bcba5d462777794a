//! Shell completions (clap_complete) and man pages (clap_mangen), rendered from the clap tree.
//! The committed `completions/` and `man/` folders are these files; a test regenerates them and fails
//! when they are stale (`UPDATE_GENERATED=1 cargo test generated` rewrites them).

use clap_complete::Shell;

/// The completion scripts: (file name, contents).
pub fn completions() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (shell, file) in [
        (Shell::Bash, "patctl.bash"),
        (Shell::Zsh, "_patctl"),
        (Shell::Fish, "patctl.fish"),
        (Shell::Elvish, "patctl.elv"),
        (Shell::PowerShell, "_patctl.ps1"),
    ] {
        let mut cmd = crate::command();
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd, "patctl", &mut buf);
        out.push((file.to_string(), buf));
    }
    out
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
