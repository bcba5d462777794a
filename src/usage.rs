//! Command-line mistakes reported the way click reports them, so that a runbook written for
//! patronictl reads the same answer: the usage line of the (sub)command, `Try '… --help' for help.`,
//! a blank line, and `Error: …` — `No such option '--master'. Did you mean '--leader'?` (close matches
//! as Python's `difflib.get_close_matches`), `No such command 'x'.`, `Missing argument 'X'.`,
//! `Invalid value for '--format' / '-f': 'xml' is not one of …`, `Option '--x' requires an argument.`
//! (that one without the usage block, as click). Exit code 2 either way.

use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::Command;

use crate::output::diff::char_ratio;

/// The text to print on stderr for a parse error `e` of `args` against the tree `cmd`; `None` for
/// the kinds clap prints itself (help, version).
pub fn click_message(e: &clap::Error, cmd: &mut Command, args: &[OsString]) -> Option<String> {
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        return None;
    }
    cmd.build();
    let sub = resolve(cmd, args);
    let error = match message(e, sub) {
        Message::Bare(text) => return Some(format!("Error: {text}\n")),
        Message::WithUsage(text) => text,
    };
    let usage = if std::ptr::eq(sub, cmd) {
        // click's usage line of the group, which clap writes as `<COMMAND>`.
        format!("Usage: {} [OPTIONS] COMMAND [ARGS]...", cmd.get_name())
    } else {
        // click writes required arguments bare (`CLUSTER_NAME`), clap as `<CLUSTER_NAME>`.
        sub.clone()
            .render_usage()
            .to_string()
            .replace(['<', '>'], "")
    };
    let path = sub.get_bin_name().unwrap_or(sub.get_name()).to_string();
    Some(format!(
        "{}\nTry '{path} --help' for help.\n\nError: {error}\n",
        usage.trim_end()
    ))
}

enum Message {
    /// click prints these without the usage block.
    Bare(String),
    WithUsage(String),
}

fn context_str(e: &clap::Error, kind: ContextKind) -> Option<String> {
    match e.get(kind)? {
        ContextValue::String(s) => Some(s.clone()),
        ContextValue::Strings(v) => v.first().cloned(),
        ContextValue::StyledStr(s) => Some(s.to_string()),
        _ => None,
    }
}

fn message(e: &clap::Error, sub: &Command) -> Message {
    let arg = context_str(e, ContextKind::InvalidArg).unwrap_or_default();
    match e.kind() {
        ErrorKind::UnknownArgument => {
            let name = arg.split('=').next().unwrap_or_default().to_string();
            if !name.starts_with('-') {
                return Message::WithUsage(format!("Got unexpected extra argument ({name})"));
            }
            let mut text = format!("No such option '{name}'.");
            if name.starts_with("--") {
                let mut longs: Vec<String> = sub
                    .get_arguments()
                    .flat_map(|a| {
                        a.get_long()
                            .into_iter()
                            .chain(a.get_all_aliases().unwrap_or_default())
                            .map(|l| format!("--{l}"))
                    })
                    .chain(["--help".to_string()])
                    .collect();
                longs.sort();
                longs.dedup();
                let theirs = PATRONICTL_OPTIONS
                    .iter()
                    .find(|(c, _)| Some(*c) == command_key(sub))
                    .map(|(_, o)| o.iter().map(|s| s.to_string()).collect::<Vec<_>>());
                text.push_str(&possibilities(&closest(&name, theirs.as_deref(), &longs)));
            }
            Message::WithUsage(text)
        }
        ErrorKind::InvalidSubcommand => {
            let name = context_str(e, ContextKind::InvalidSubcommand).unwrap_or_default();
            let ours: Vec<String> = sub
                .get_subcommands()
                .filter(|c| !c.is_hide_set())
                .map(|c| c.get_name().to_string())
                .collect();
            let theirs = (command_key(sub) == Some("")).then(|| {
                PATRONICTL_OPTIONS
                    .iter()
                    .skip(1)
                    .map(|(c, _)| c.to_string())
                    .collect::<Vec<_>>()
            });
            let mut text = format!("No such command '{name}'.");
            text.push_str(&possibilities(&closest(&name, theirs.as_deref(), &ours)));
            Message::WithUsage(text)
        }
        ErrorKind::MissingRequiredArgument => {
            let missing = arg.split_whitespace().next().unwrap_or_default();
            Message::WithUsage(match missing.strip_prefix('<') {
                Some(name) => format!("Missing argument '{}'.", name.trim_end_matches(['>', '.'])),
                None => format!("Missing option '{missing}'."),
            })
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let value = context_str(e, ContextKind::InvalidValue).unwrap_or_default();
            let hint = param_hint(sub, &arg);
            let first = arg.split_whitespace().next().unwrap_or_default();
            if value.is_empty() && e.kind() == ErrorKind::InvalidValue {
                return Message::Bare(format!("Option '{first}' requires an argument."));
            }
            let why = match e.get(ContextKind::ValidValue) {
                Some(ContextValue::Strings(valid)) => {
                    let quoted: Vec<String> = valid.iter().map(|v| format!("'{v}'")).collect();
                    format!("'{value}' is not one of {}.", quoted.join(", "))
                }
                _ => std::error::Error::source(e)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| format!("'{value}'")),
            };
            Message::WithUsage(format!("Invalid value for {hint}: {why}"))
        }
        _ => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            let first = first.strip_prefix("error: ").unwrap_or(first);
            let mut chars = first.chars();
            let capital = chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default();
            Message::WithUsage(capital)
        }
    }
}

/// click's parameter hint: `'--format' / '-f'` for an option, `'NAME'` for an argument.
fn param_hint(sub: &Command, invalid_arg: &str) -> String {
    let first = invalid_arg.split_whitespace().next().unwrap_or_default();
    if let Some(long) = first.strip_prefix("--") {
        if let Some(a) = sub.get_arguments().find(|a| a.get_long() == Some(long)) {
            if let Some(short) = a.get_short() {
                return format!("'--{long}' / '-{short}'");
            }
        }
        return format!("'--{long}'");
    }
    format!("'{}'", first.trim_matches(['<', '>', '.']))
}

/// patronictl 4.1.5's commands and their long options (click's `_long_opt`, with `--help`); `""`
/// is the group itself. Read from patronictl's click tree.
const PATRONICTL_OPTIONS: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "--config-file",
            "--dcs-url",
            "--dcs",
            "--insecure",
            "--help",
        ],
    ),
    (
        "demote-cluster",
        &[
            "--force",
            "--host",
            "--port",
            "--restore-command",
            "--primary-slot-name",
            "--help",
        ],
    ),
    ("dsn", &["--role", "--member", "--group", "--help"]),
    (
        "edit-config",
        &[
            "--group",
            "--quiet",
            "--set",
            "--pg",
            "--apply",
            "--replace",
            "--force",
            "--help",
        ],
    ),
    ("failover", &["--group", "--candidate", "--force", "--help"]),
    ("flush", &["--group", "--role", "--force", "--help"]),
    ("history", &["--group", "--format", "--help"]),
    (
        "list",
        &[
            "--group",
            "--extended",
            "--timestamp",
            "--format",
            "--watch",
            "--help",
        ],
    ),
    ("pause", &["--group", "--wait", "--help"]),
    ("promote-cluster", &["--force", "--help"]),
    (
        "query",
        &[
            "--group",
            "--format",
            "--file",
            "--password",
            "--username",
            "--watch",
            "--role",
            "--member",
            "--delimiter",
            "--command",
            "--dbname",
            "--help",
        ],
    ),
    (
        "reinit",
        &["--group", "--force", "--from-leader", "--wait", "--help"],
    ),
    ("reload", &["--group", "--role", "--force", "--help"]),
    ("remove", &["--group", "--format", "--help"]),
    (
        "restart",
        &[
            "--group",
            "--role",
            "--any",
            "--scheduled",
            "--pg-version",
            "--pending",
            "--timeout",
            "--force",
            "--help",
        ],
    ),
    ("resume", &["--group", "--wait", "--help"]),
    ("show-config", &["--group", "--help"]),
    (
        "switchover",
        &[
            "--group",
            "--leader",
            "--primary",
            "--candidate",
            "--scheduled",
            "--force",
            "--help",
        ],
    ),
    ("topology", &["--group", "--watch", "--help"]),
    ("version", &["--group", "--help"]),
];

/// The key of `sub` in [`PATRONICTL_OPTIONS`]: `""` for the top-level command, the name of a
/// command one level down, `None` deeper (`context list` is not patronictl's `list`).
fn command_key(sub: &Command) -> Option<&str> {
    match sub.get_bin_name().map(|b| b.matches(' ').count()) {
        Some(0) | None => Some(""),
        Some(1) => Some(sub.get_name()),
        Some(_) => None,
    }
}

/// The close matches click would offer: among patronictl's own names when the command is
/// patronictl's and one of them is close (so a patronictl typo reads as patronictl answers it,
/// `--candidat` → `--candidate` alone), else among all of patctl's (its additions included).
fn closest(word: &str, theirs: Option<&[String]>, ours: &[String]) -> Vec<String> {
    if let Some(theirs) = theirs {
        let found = close_matches(word, theirs);
        if !found.is_empty() {
            return found;
        }
    }
    close_matches(word, ours)
}

/// click's `_format_possibilities`: ` Did you mean 'x'?` or ` (Did you mean one of: 'a', 'b'?)`.
fn possibilities(matches: &[String]) -> String {
    let mut sorted = matches.to_vec();
    sorted.sort();
    let quoted: Vec<String> = sorted.iter().map(|p| format!("'{p}'")).collect();
    match quoted.len() {
        0 => String::new(),
        1 => format!(" Did you mean {}?", quoted[0]),
        _ => format!(" (Did you mean one of: {}?)", quoted.join(", ")),
    }
}

/// Python's `difflib.get_close_matches(word, possibilities)` (n=3, cutoff=0.6): best first.
fn close_matches(word: &str, candidates: &[String]) -> Vec<String> {
    let mut scored: Vec<(f64, &String)> = candidates
        .iter()
        .filter_map(|c| {
            let ratio = char_ratio(c, word);
            (ratio >= 0.6).then_some((ratio, c))
        })
        .collect();
    scored.sort_by(|x, y| y.0.total_cmp(&x.0).then_with(|| y.1.cmp(x.1)));
    scored.into_iter().take(3).map(|(_, c)| c.clone()).collect()
}

/// The (sub)command the arguments reached before the error: subcommand names are followed, and the
/// values of options that take one are skipped.
fn resolve<'c>(cmd: &'c Command, args: &[OsString]) -> &'c Command {
    let mut current = cmd;
    let mut tokens = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned());
    while let Some(tok) = tokens.next() {
        if tok == "--" {
            break;
        }
        let takes_value = if let Some(long) = tok.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, _)) => (n, true),
                None => (long, false),
            };
            let arg = current.get_arguments().find(|a| {
                a.get_long() == Some(name)
                    || a.get_all_aliases().is_some_and(|al| al.contains(&name))
            });
            match arg {
                Some(a) => !inline && a.get_action().takes_values(),
                None => break,
            }
        } else if let Some(shorts) = tok.strip_prefix('-').filter(|s| !s.is_empty()) {
            let first = shorts.chars().next().unwrap_or_default();
            match current
                .get_arguments()
                .find(|a| a.get_short() == Some(first))
            {
                Some(a) => shorts.len() == 1 && a.get_action().takes_values(),
                None => break,
            }
        } else {
            if let Some(sub) = current.find_subcommand(&tok) {
                current = sub;
            }
            false
        };
        if takes_value {
            tokens.next();
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> String {
        let mut cmd = crate::cli::Cli::command_for("patronictl");
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        let e = cmd.clone().try_get_matches_from(&args).unwrap_err();
        click_message(&e, &mut cmd, &args).unwrap()
    }

    #[test]
    fn unknown_options_and_commands_read_as_click() {
        assert_eq!(
            run(&["patronictl", "switchover", "--master", "node1", "--force"]),
            "Usage: patronictl switchover [OPTIONS] [CLUSTER_NAME]\n\
             Try 'patronictl switchover --help' for help.\n\n\
             Error: No such option '--master'. Did you mean '--leader'?\n"
        );
        assert!(
            run(&["patronictl", "list", "--bogus"]).ends_with("Error: No such option '--bogus'.\n")
        );
        assert!(run(&["patronictl", "-k", "bogus"]).ends_with("Error: No such command 'bogus'.\n"));
        assert!(run(&["patronictl", "remove"]).ends_with(
            "Try 'patronictl remove --help' for help.\n\nError: Missing argument 'CLUSTER_NAME'.\n"
        ));
    }

    #[test]
    fn suggestions_are_patronictls_when_one_of_its_names_is_close() {
        assert!(run(&["patronictl", "lst"])
            .ends_with("Error: No such command 'lst'. Did you mean 'list'?\n"));
        assert!(run(&["patronictl", "switchover", "--candidat", "x"])
            .ends_with("Error: No such option '--candidat'. Did you mean '--candidate'?\n"));
        assert!(run(&["patronictl", "restart", "--p"]).ends_with(
            "Error: No such option '--p'. (Did you mean one of: '--group', '--help'?)\n"
        ));
        assert!(run(&["patronictl", "--dcs-ur", "x", "list"]).ends_with(
            "Error: No such option '--dcs-ur'. (Did you mean one of: '--dcs', '--dcs-url'?)\n"
        ));
        // None of patronictl's is close: patctl's own names are offered.
        assert!(run(&["patronictl", "doctr"])
            .ends_with("Error: No such command 'doctr'. Did you mean 'doctor'?\n"));
        assert!(run(&["patronictl", "switchover", "--wai"])
            .ends_with("Error: No such option '--wai'. Did you mean '--wait'?\n"));
    }

    #[test]
    fn invalid_values_read_as_click() {
        assert!(
            run(&["patronictl", "restart", "demo", "--role", "x"]).ends_with(
                "Error: Invalid value for '--role' / '-r': 'x' is not one of 'leader', 'primary', \
             'standby-leader', 'replica', 'standby', 'any'.\n"
            )
        );
        assert_eq!(
            run(&["patronictl", "list", "a", "--format"]),
            "Error: Option '--format' requires an argument.\n"
        );
    }

    #[test]
    fn close_matches_follow_difflib() {
        let c = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            close_matches("--master", &c(&["--leader", "--candidate", "--force"])),
            c(&["--leader"])
        );
        assert_eq!(
            close_matches("--timeout", &c(&["--timestamp", "--watch"])),
            c(&["--timestamp"])
        );
        assert!(close_matches("--zzz", &c(&["--leader"])).is_empty());
    }
}
