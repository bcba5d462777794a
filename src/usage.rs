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
                let longs: Vec<String> = sub
                    .get_arguments()
                    .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
                    .chain(["--help".to_string()])
                    .collect();
                text.push_str(&possibilities(&close_matches(&name, &longs)));
            }
            Message::WithUsage(text)
        }
        ErrorKind::InvalidSubcommand => {
            let name = context_str(e, ContextKind::InvalidSubcommand).unwrap_or_default();
            Message::WithUsage(format!("No such command '{name}'."))
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
