//! Dynamic shell completion: cluster names, member names and switchover/failover candidates read
//! from the DCS at TAB time (clap_complete's `CompleteEnv`: the shell runs `COMPLETE=<shell> patctl
//! -- <words>`). patronictl completes none of these.
//!
//! The DCS is asked with a one-second budget; when it does not answer, there are simply no
//! candidates (never a hang, never an error on the terminal).

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::time::Duration;

use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};

use crate::config::{self, contexts, Settings, Sources};
use crate::dcs::{Dcs, Layout};
use crate::model::Cluster;

const BUDGET: Duration = Duration::from_secs(1);

/// Options whose next word is their value (so that word is not a positional argument), read from
/// the command tree itself: every option of the top level and of every subcommand that takes a value.
fn value_options() -> BTreeSet<String> {
    let mut cmd = crate::command();
    cmd.build();
    let mut out = BTreeSet::new();
    let mut add = |c: &clap::Command| {
        for a in c.get_arguments().filter(|a| a.get_action().takes_values()) {
            out.extend(a.get_long().map(|l| format!("--{l}")));
            out.extend(a.get_short().map(|s| format!("-{s}")));
            for alias in a.get_all_aliases().unwrap_or_default() {
                out.insert(format!("--{alias}"));
            }
        }
    };
    add(&cmd);
    cmd.get_subcommands().for_each(&mut add);
    out
}

/// The words of the command line being completed (after `--`), without the program name.
fn words() -> Vec<String> {
    let args: Vec<String> = std::env::args_os()
        .map(|a: OsString| a.to_string_lossy().into_owned())
        .collect();
    match args.iter().position(|a| a == "--") {
        Some(i) => args.into_iter().skip(i + 2).collect(),
        None => Vec::new(),
    }
}

/// The value of a global option among the words (`-c x`, `--config-file=x`).
fn option_value(words: &[String], names: &[&str]) -> Option<String> {
    let mut it = words.iter();
    while let Some(w) = it.next() {
        if names.contains(&w.as_str()) {
            return it.next().cloned();
        }
        for n in names.iter().filter(|n| n.starts_with("--")) {
            if let Some(v) = w.strip_prefix(&format!("{n}=")) {
                return Some(v.to_string());
            }
        }
    }
    None
}

/// Positional words after the subcommand (options and their values skipped); the last word, being
/// completed, is left out.
fn positionals(words: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip_next = false;
    let value_options = value_options();
    let complete = &words[..words.len().saturating_sub(1)];
    for w in complete {
        if skip_next {
            skip_next = false;
            continue;
        }
        if w.starts_with('-') {
            skip_next = value_options.contains(w.as_str());
            continue;
        }
        out.push(w.clone());
    }
    // The first positional is the subcommand itself.
    out.into_iter().skip(1).collect()
}

fn settings(words: &[String]) -> Option<Settings> {
    let sources = Sources {
        config_file: option_value(words, &["-c", "--config-file"]).map(Into::into),
        dcs_url: option_value(words, &["-d", "--dcs-url", "--dcs"])
            .or_else(|| std::env::var("DCS_URL").ok()),
        insecure: false,
        timeout: BUDGET,
    };
    let sources = Sources {
        config_file: sources
            .config_file
            .or_else(|| std::env::var_os("PATRONICTL_CONFIG_FILE").map(Into::into)),
        ..sources
    };
    // Through the context named on the command line, by PATCTL_CONTEXT or `current`.
    let env = std::env::vars().collect();
    let flag = option_value(words, &["--context"]);
    let (sources, chosen) = contexts::resolve(&sources, true, flag.as_deref(), &env).ok()?;
    let mut settings = config::load(&sources).ok()?;
    if let Some(mut c) = chosen {
        // Completion reads the DCS only: no password command is run on a TAB.
        c.password = None;
        c.apply(&mut settings).ok()?;
    }
    Some(settings)
}

/// The names of the contexts file's contexts (for `--context`, `context use` and `context show`).
pub fn context_names() -> Vec<CompletionCandidate> {
    let env = std::env::vars().collect();
    let names = contexts::read(&contexts::path(&env))
        .ok()
        .flatten()
        .map(|f| f.contexts.into_iter().map(|c| c.name).collect::<Vec<_>>());
    candidates(names.unwrap_or_default())
}

/// Run one DCS read for completion, within the budget; `None` on any failure.
fn with_dcs<T>(f: impl AsyncFnOnce(&mut Dcs, &Settings) -> Option<T>) -> Option<T> {
    let words = words();
    let settings = settings(&words)?;
    let dcs_settings = settings.dcs().ok()?.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    let out = rt.block_on(async {
        tokio::time::timeout(BUDGET, async {
            let layout = Layout::of(&settings);
            let mut dcs = Dcs::connect(&dcs_settings, layout).await.ok()?;
            f(&mut dcs, &settings).await
        })
        .await
        .ok()
        .flatten()
    });
    rt.shutdown_background();
    out
}

fn candidates(names: impl IntoIterator<Item = String>) -> Vec<CompletionCandidate> {
    names.into_iter().map(CompletionCandidate::new).collect()
}

/// Cluster names: the configured scope (even when the DCS does not answer) and the scopes under the
/// namespace.
pub fn cluster_names() -> Vec<CompletionCandidate> {
    let configured = settings(&words()).and_then(|s| s.scope);
    let found = with_dcs(async |dcs, _| dcs.scopes().await.ok());
    let mut names: BTreeSet<String> = found.unwrap_or_default().into_iter().collect();
    names.extend(configured);
    candidates(names)
}

fn current_cluster(filter: fn(&Cluster) -> Vec<String>) -> Vec<CompletionCandidate> {
    let words = words();
    let names = with_dcs(async |dcs, settings| {
        let scope = positionals(&words)
            .into_iter()
            .next()
            .or_else(|| settings.scope.clone())?;
        let cluster = dcs.get_cluster(&scope, None).await.ok()?;
        Some(filter(&cluster))
    });
    candidates(names.unwrap_or_default())
}

/// Member names of the cluster named on the command line (or the configured scope).
pub fn member_names() -> Vec<CompletionCandidate> {
    current_cluster(|c| c.members.iter().map(|m| m.name.clone()).collect())
}

/// Switchover/failover candidates: members other than the leader and not tagged `nofailover`.
pub fn switchover_candidates() -> Vec<CompletionCandidate> {
    current_cluster(|c| {
        c.members
            .iter()
            .filter(|m| Some(m.name.as_str()) != c.leader_name() && !m.nofailover())
            .map(|m| m.name.clone())
            .collect()
    })
}

/// Members that `reinit` accepts: every member but the leader (Patroni refuses to reinitialize it).
pub fn replica_names() -> Vec<CompletionCandidate> {
    current_cluster(|c| {
        c.members
            .iter()
            .filter(|m| Some(m.name.as_str()) != c.leader_name())
            .map(|m| m.name.clone())
            .collect()
    })
}

/// The current leader (for `--leader/--primary`).
pub fn leader_name() -> Vec<CompletionCandidate> {
    current_cluster(|c| c.leader_name().map(String::from).into_iter().collect())
}

/// Attach the completers to the arguments of every subcommand, by argument id.
pub fn add_completers(cmd: clap::Command) -> clap::Command {
    let ids: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    let mut cmd = cmd
        .mut_arg("context", |a| a.add(ArgValueCandidates::new(context_names)))
        .mut_subcommand("context", |c| {
            c.mut_subcommand("use", |s| {
                s.mut_arg("name", |a| a.add(ArgValueCandidates::new(context_names)))
            })
            .mut_subcommand("show", |s| {
                s.mut_arg("name", |a| a.add(ArgValueCandidates::new(context_names)))
            })
        });
    for name in ids {
        cmd = cmd.mut_subcommand(&name, |mut sub| {
            let args: Vec<String> = sub
                .get_arguments()
                .map(|a| a.get_id().to_string())
                .collect();
            for id in args {
                let completer = match id.as_str() {
                    "cluster_name" | "cluster_names" => {
                        Some(ArgValueCandidates::new(cluster_names))
                    }
                    "member_names" if name == "reinit" => {
                        Some(ArgValueCandidates::new(replica_names))
                    }
                    "member_names" | "member" | "rest" => {
                        Some(ArgValueCandidates::new(member_names))
                    }
                    "candidate" => Some(ArgValueCandidates::new(switchover_candidates)),
                    "leader" => Some(ArgValueCandidates::new(leader_name)),
                    _ => None,
                };
                if let Some(c) = completer {
                    sub = sub.mut_arg(&id, |a| a.add(c));
                }
            }
            sub
        });
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn positional_and_option_words() {
        let words = w("-c /x.yml switchover --candidate demo2 demo ");
        assert_eq!(
            option_value(&words, &["-c", "--config-file"]).as_deref(),
            Some("/x.yml")
        );
        assert_eq!(positionals(&words), vec!["demo"]);
        let words = w("--config-file=/y restart demo node");
        assert_eq!(
            option_value(&words, &["-c", "--config-file"]).as_deref(),
            Some("/y")
        );
        assert_eq!(positionals(&words), vec!["demo"]);
        let words = w("--request-timeout 2 list --color never demo x");
        assert_eq!(positionals(&words), vec!["demo"]);
    }

    #[test]
    fn value_options_come_from_the_tree() {
        let opts = value_options();
        for o in [
            "-c",
            "--dcs-url",
            "--dcs",
            "--request-timeout",
            "--timeout",
            "--wait-timeout",
            "-U",
            "--format",
        ] {
            assert!(opts.contains(o), "{o}");
        }
        assert!(!opts.contains("--force") && !opts.contains("--wait"));
    }
}
