//! The generative differential test of the read commands: seeded random, Patroni-shaped DCS contents
//! ([`gen`]) written into the sandbox etcd under a scratch namespace ([`oracle::write`]), then
//! `list`, `list -e`, `list -f json|yaml|tsv`, `topology`, `history` and `show-config` run with
//! patctl and with patronictl 4.1.5 (a [`ForkServer`]); stdout and exit code must be the same.
//!
//! - `PATCTL_FUZZ_CASES=N` sets the number of cases (CI: [`CI_CASES`]), `PATCTL_FUZZ_SEED=S` the seed;
//!   case `i` is generated from `S + i`, so one case can be replayed on its own
//!   (`PATCTL_FUZZ_SEED=S+i PATCTL_FUZZ_CASES=1`).
//! - A mismatch is shrunk ([`shrink`]) and printed as a minimal reproducer: the keys to write, the
//!   command, both outputs.
//! - Where patronictl itself crashes with a traceback the case is not compared; patctl must then
//!   give a one-line error or a rendering, never a panic. Such cases are counted and their shapes
//!   (the exception line) printed; README "Compatibility with patronictl 4.1.5" lists them.

#[path = "../../support/generator.rs"]
mod gen;
mod oracle;
mod shrink;

use std::collections::BTreeMap;
use std::time::Instant;

use crate::common::*;
use crate::fork_server::{patronictl_script, ForkServer};
use gen::Case;

/// Cases run when `PATCTL_FUZZ_CASES` is not set (under a minute and a half on a busy 2-core machine).
const CI_CASES: u64 = 40;
/// The seed used when `PATCTL_FUZZ_SEED` is not set.
const CI_SEED: u64 = 0x5EED_0022;
/// Shrinking attempts per mismatch.
const SHRINK_BUDGET: usize = 250;
/// Mismatches shrunk and printed in full (the rest are only counted).
const SHOWN: usize = 4;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| {
            let v = v.trim();
            v.strip_prefix("0x")
                .map_or_else(|| v.parse().ok(), |h| u64::from_str_radix(h, 16).ok())
        })
        .unwrap_or(default)
}

/// The read commands compared on every case.
fn commands(case: &Case) -> Vec<Vec<&'static str>> {
    let mut c = vec![
        vec!["list"],
        vec!["list", "-e"],
        vec!["list", "-f", "json"],
        vec!["list", "-e", "-f", "yaml"],
        vec!["list", "-e", "-f", "tsv"],
        vec!["topology"],
        vec!["history"],
        vec!["show-config"],
    ];
    if case.citus {
        c.push(vec!["list", "-e", "--group", "1"]);
        c.push(vec!["history", "--group", "0"]);
    }
    c
}

/// The patronictl configuration file pointing both tools at the scratch namespace.
fn write_config(path: &std::path::Path, ns: &str, citus: bool) {
    let mut text = format!(
        "scope: fuzz\nnamespace: {ns}\netcd3:\n  hosts: {}\n",
        etcd_url().trim_start_matches("http://")
    );
    if citus {
        text.push_str("citus:\n  group: 0\n  database: citus\n");
    }
    std::fs::write(path, text).unwrap();
}

struct Runner {
    patronictl: ForkServer,
    dir: std::path::PathBuf,
    ns: String,
}

/// What one command gave with both tools.
enum Verdict {
    Same,
    /// patronictl crashed with a traceback: its last line.
    PatronictlCrash(String),
    Differ(String),
}

impl Runner {
    fn config(&self, citus: bool) -> String {
        let p = self.dir.join(if citus { "citus.yml" } else { "plain.yml" });
        write_config(&p, &self.ns, citus);
        p.to_string_lossy().into_owned()
    }

    fn compare(&mut self, case: &Case, cmd: &[&str]) -> Verdict {
        let cfg = self.config(case.citus);
        let mut args: Vec<String> = vec!["-c".into(), cfg];
        args.extend(cmd.iter().map(|s| s.to_string()));
        let theirs = self.patronictl.run(&args);
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let ours = Tool::Patctl.run(&argv, None, &[]);
        if ours.stderr.contains("panicked") {
            return Verdict::Differ(format!("patctl panicked:\n{}", ours.stderr));
        }
        if theirs.stderr.contains("Traceback (most recent call last)") {
            let shape = theirs
                .stderr
                .trim_end()
                .lines()
                .last()
                .unwrap_or("")
                .to_string();
            // One error line (a `Hint: …` line may follow it).
            let errors = ours
                .stderr
                .trim_end()
                .lines()
                .filter(|l| !l.starts_with("Hint: "))
                .count();
            if ours.code != 0 && errors != 1 {
                return Verdict::Differ(format!(
                    "patronictl crashed ({shape}); patctl exit {} without a one-line error:\n{}",
                    ours.code, ours.stderr
                ));
            }
            return Verdict::PatronictlCrash(shape);
        }
        if ours.stdout == theirs.stdout && ours.code == theirs.code {
            return Verdict::Same;
        }
        Verdict::Differ(format!(
            "exit: patctl {} patronictl {}\n--- patctl stdout\n{}--- patronictl stdout\n{}--- patctl stderr\n{}--- patronictl stderr\n{}",
            ours.code, theirs.code, ours.stdout, theirs.stdout, ours.stderr, theirs.stderr
        ))
    }

    /// Write `case` and compare `cmd` on it.
    fn check(&mut self, case: &Case, cmd: &[&str]) -> Verdict {
        oracle::write(&format!("{}fuzz/", self.ns), case);
        self.compare(case, cmd)
    }
}

fn reproducer(case: &Case, cmd: &[&str], detail: &str) -> String {
    let mut s = format!("patctl {} on (citus: {}):\n", cmd.join(" "), case.citus);
    for (g, keys) in &case.groups {
        for (k, v) in keys {
            let k = if case.citus {
                format!("{g}/{k}")
            } else {
                k.clone()
            };
            let v = match v {
                serde_json::Value::String(s) => format!("{s:?} (raw)"),
                other => other.to_string(),
            };
            s.push_str(&format!("  {k:?} = {v}\n"));
        }
    }
    s.push_str(detail);
    s
}

#[test]
#[allow(clippy::print_stderr)] // the run's figures, shown with --nocapture
fn generated_clusters_read_the_same_as_with_patronictl() {
    let Some(_g) = read_lock() else { return };
    let python =
        std::env::var("PATCTL_PYTHON").unwrap_or_else(|_| "/opt/patroni-venv/bin/python3".into());
    let cases = env_u64("PATCTL_FUZZ_CASES", CI_CASES);
    let seed = env_u64("PATCTL_FUZZ_SEED", CI_SEED);
    let ns = format!("/{}/", scratch_scope("gen"));
    let dir = std::env::temp_dir().join(scratch_scope("gen"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut runner = Runner {
        patronictl: ForkServer::start(&patronictl_script(&python), &dir),
        dir: dir.clone(),
        ns: ns.clone(),
    };
    let start = Instant::now();
    let mut crashes: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures: Vec<String> = Vec::new();
    let mut mismatches = 0;
    let mut compared = 0;
    finally(
        || {
            for i in 0..cases {
                let mut r = Rng(seed.wrapping_add(i).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
                let case = gen::case(&mut r);
                let mut written = false;
                for cmd in commands(&case) {
                    if !written {
                        oracle::write(&format!("{ns}fuzz/"), &case);
                        written = true;
                    }
                    match runner.compare(&case, &cmd) {
                        Verdict::Same => compared += 1,
                        Verdict::PatronictlCrash(shape) => *crashes.entry(shape).or_default() += 1,
                        Verdict::Differ(first) => {
                            mismatches += 1;
                            if failures.len() >= SHOWN {
                                continue;
                            }
                            let small = shrink::shrink(case.clone(), SHRINK_BUDGET, |c| {
                                matches!(runner.check(c, &cmd), Verdict::Differ(_))
                            });
                            written = false;
                            let detail = match runner.check(&small, &cmd) {
                                Verdict::Differ(d) => d,
                                _ => first,
                            };
                            failures.push(format!(
                                "case {i} (PATCTL_FUZZ_SEED={} PATCTL_FUZZ_CASES=1): {}",
                                seed.wrapping_add(i),
                                reproducer(&small, &cmd, &detail)
                            ));
                        }
                    }
                }
            }
        },
        || {
            oracle::clear(&ns);
            let _ = std::fs::remove_dir_all(&dir);
        },
    );
    eprintln!(
        "generative: {cases} cases, seed {seed:#x}, {compared} outputs identical, {mismatches} mismatches, {} patronictl tracebacks, {:.0?}",
        crashes.values().sum::<usize>(),
        start.elapsed()
    );
    for (shape, n) in &crashes {
        eprintln!("  patronictl traceback ×{n}: {shape}");
    }
    assert!(
        failures.is_empty(),
        "{mismatches} mismatches; minimal reproducers of the first {}:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
