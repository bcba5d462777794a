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

/// The man pages: `patctl.1` (with FILES, ENVIRONMENT, EXIT STATUS and EXAMPLES) and
/// `patctl-<command>.1` for every command (with EXIT STATUS, its examples and SEE ALSO).
pub fn man_pages() -> Vec<(String, Vec<u8>)> {
    let cmd = crate::command();
    let mut out = vec![("patctl.1".to_string(), page(cmd.clone(), &top_sections()))];
    for sub in cmd.get_subcommands() {
        let name = format!("patctl-{}", sub.get_name());
        let cmd = sub
            .clone()
            .name(name.clone())
            .bin_name(format!("patctl {}", sub.get_name()));
        let mut extra = vec![exit_status()];
        let examples: Vec<&(&str, &str, &str)> = EXAMPLES
            .iter()
            .filter(|(c, _, _)| *c == sub.get_name())
            .collect();
        if !examples.is_empty() {
            extra.push(section(
                "EXAMPLES",
                &examples
                    .iter()
                    .map(|(_, what, line)| (*line, *what))
                    .collect::<Vec<_>>(),
            ));
        }
        extra.push(".SH \"SEE ALSO\"\n\\fBpatctl\\fR(1)\n".to_string());
        out.push((format!("{name}.1"), page(cmd, &extra)));
        // Pages for the commands of a command with subcommands (`context list`, …).
        for inner in sub.get_subcommands() {
            let inner_name = format!("{name}-{}", inner.get_name());
            let cmd = inner.clone().name(inner_name.clone()).bin_name(format!(
                "patctl {} {}",
                sub.get_name(),
                inner.get_name()
            ));
            let extra = [
                exit_status(),
                format!(".SH \"SEE ALSO\"\n\\fB{name}\\fR(1)\n").replace('-', "\\-"),
            ];
            out.push((format!("{inner_name}.1"), page(cmd, &extra)));
        }
    }
    out
}

/// One page: clap_mangen's sections, then `extra` (roff), then the version.
fn page(cmd: clap::Command, extra: &[String]) -> Vec<u8> {
    let man = clap_mangen::Man::new(cmd.clone());
    let mut buf = Vec::new();
    let rendered = man
        .render_title(&mut buf)
        .and_then(|()| man.render_name_section(&mut buf))
        .and_then(|()| man.render_synopsis_section(&mut buf))
        .and_then(|()| man.render_description_section(&mut buf))
        .and_then(|()| man.render_options_section(&mut buf))
        .and_then(|()| {
            if cmd.get_subcommands().next().is_some() {
                man.render_subcommands_section(&mut buf)
            } else {
                Ok(())
            }
        });
    debug_assert!(rendered.is_ok(), "writing to a Vec");
    if cmd.get_after_help().is_some() {
        let _ = man.render_extra_section(&mut buf);
    }
    for e in extra {
        buf.extend_from_slice(e.as_bytes());
    }
    if cmd.get_version().is_some() {
        let _ = man.render_version_section(&mut buf);
    }
    buf
}

/// Escape text for roff: backslashes and leading dots/quotes, dashes as `\-`.
fn roff(text: &str) -> String {
    let t = text.replace('\\', "\\e").replace('-', "\\-");
    if t.starts_with('.') || t.starts_with('\'') {
        format!("\\&{t}")
    } else {
        t
    }
}

/// A section of tagged paragraphs: `(tag, text)`.
fn section(title: &str, items: &[(&str, &str)]) -> String {
    let mut s = format!(".SH \"{title}\"\n");
    for (tag, text) in items {
        s.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", roff(tag), roff(text)));
    }
    s
}

fn exit_status() -> String {
    let codes: Vec<(String, &str)> = crate::error::Exit::ALL
        .iter()
        .map(|(e, meaning)| (e.code().to_string(), *meaning))
        .collect();
    let items: Vec<(&str, &str)> = codes.iter().map(|(c, m)| (c.as_str(), *m)).collect();
    section("EXIT STATUS", &items)
}

fn top_sections() -> Vec<String> {
    let examples: Vec<(&str, &str)> = EXAMPLES.iter().map(|(_, w, l)| (*l, *w)).collect();
    vec![
        section(
            "FILES",
            &[
                ("-c PATH, PATRONICTL_CONFIG_FILE", "The configuration file (or a directory of YAML files, read in name order) when given. Any patroni.yml works: patctl reads scope, namespace, the DCS section (etcd3 or etcd), ctl and restapi."),
                ("$XDG_CONFIG_HOME/patroni/patronictl.yaml", "Read when no file is given (XDG_CONFIG_HOME defaults to ~/.config). A file named with -c that cannot be read is an error (exit 2)."),
                ("$XDG_CONFIG_HOME/patctl/contexts.yaml", "patctl's named contexts (PATCTL_CONTEXTS names another file): config file or DCS URL, namespace, scope, REST TLS and auth, timeout per name; see patctl-context(1)."),
            ],
        ),
        section(
            "ENVIRONMENT",
            &[
                ("PATRONICTL_CONFIG_FILE", "The configuration file, as -c."),
                ("DCS_URL", "The DCS, as -d: etcd3://HOST:PORT[/NAMESPACE], etcd://HOST:PORT, or a bare HOST:PORT (etcd v2, as patronictl). It replaces the DCS section of the file."),
                ("PATRONI_*", "Patroni's own overrides of the file, as patronictl applies them: PATRONI_SCOPE, PATRONI_NAMESPACE, PATRONI_ETCD3_HOSTS, PATRONI_ETCD_HOST, PATRONI_RESTAPI_USERNAME/PASSWORD, PATRONI_RESTAPI_CAFILE, PATRONI_CTL_CERTFILE/KEYFILE/INSECURE, ..."),
                ("PATRONI_CONFIGURATION", "A whole YAML configuration, used when no file is found."),
                ("PATCTL_CONTEXT, PATCTL_CONTEXTS", "The context to use, as --context (else the file's current key; -c or -d given without one means no context), and the contexts file."),
                ("PATCTL_REQUEST_TIMEOUT", "Seconds for each DCS and REST call, as --request-timeout (default 5; PATCTL_TIMEOUT is the former name)."),
                ("NO_COLOR, CLICOLOR_FORCE", "No colour at all / colour even when stdout is not a terminal (--color wins over both)."),
                ("EDITOR, PAGER", "The editor of edit-config (may carry arguments) and the pager of its diff."),
                ("COMPLETE", "Set by the shell completion scripts (completions/): COMPLETE=bash patctl ... prints completions."),
            ],
        ),
        exit_status(),
        section("EXAMPLES", &examples),
    ]
}

/// (command, what it does, command line): the drills DBAs run, from the project's seed documents.
const EXAMPLES: &[(&str, &str, &str)] = &[
    ("list", "The members, their roles, states, timelines and lag.", "patctl -c /etc/patroni/patroni.yml list"),
    ("list", "Repeat every 2 seconds while a drill runs (SIGKILL/SIGSTOP a node, watch the failover).", "patctl -c /etc/patroni/patroni.yml list -W"),
    ("switchover", "A scripted switchover that waits until the new leader runs (exit 0), or says why not.", "patctl -c /etc/patroni/patroni.yml switchover demo --leader node1 --candidate node2 --force --wait"),
    ("switchover", "Check first: a PASS/FAIL table per member; nothing is written.", "patctl -c /etc/patroni/patroni.yml switchover demo --candidate node2 --dry-run"),
    ("failover", "Promote a replica when the leader is gone.", "patctl -c /etc/patroni/patroni.yml failover demo --candidate node2 --force"),
    ("restart", "Restart one member.", "patctl -c /etc/patroni/patroni.yml restart demo node2 --force"),
    ("reinit", "Rebuild a replica from the leader and wait until it streams again.", "patctl -c /etc/patroni/patroni.yml reinit demo node3 --force --wait"),
    ("edit-config", "Change a PostgreSQL parameter for the whole cluster.", "patctl -c /etc/patroni/patroni.yml edit-config demo -p max_connections=200 --force"),
    ("pause", "Maintenance mode: Patroni stops acting on failures until resume.", "patctl -c /etc/patroni/patroni.yml pause demo --wait"),
    ("history", "The timeline history: every failover and switchover.", "patctl -c /etc/patroni/patroni.yml history demo"),
    ("context", "Make a named context current, then run any command without -c.", "patctl context use prod && patctl list"),
];
