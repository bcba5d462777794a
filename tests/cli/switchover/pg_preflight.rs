//! The PostgreSQL side of the switchover pre-flight on the sandbox: a transaction held open on the
//! leader (a background `psql` inside `BEGIN`) is a WARN in `switchover --dry-run`, blocks it under
//! `--strict` (exit 1, and a real `--strict` switchover is refused before anything is written), and
//! the checks are skipped with one INFO line with credentials that do not work or `--skip-pg-checks`.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{leader_key, on_cluster, HEALTHY};
use crate::common::*;

const APP: &str = "patctl-pg-preflight-test";

/// A `psql` on `node`'s unix socket inside `BEGIN; SELECT txid_current();`, its stdin kept open so
/// the transaction stays open until the process is killed.
fn hold_transaction(node: &str) -> Child {
    let i: u16 = node.trim_start_matches("node").parse().unwrap();
    let port = env("SANDBOX_PG_BASE").parse::<u16>().unwrap() + i;
    let mut child = Command::new("psql")
        .args(["-h", &format!("{}/{node}", env("SANDBOX_DIR"))])
        .args([
            "-p",
            &port.to_string(),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-X",
            "-q",
        ])
        .env("PGAPPNAME", APP)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("psql");
    let stdin = child.stdin.as_mut().unwrap();
    stdin.write_all(b"BEGIN; SELECT txid_current();\n").unwrap();
    stdin.flush().unwrap();
    child
}

#[test]
fn open_transaction_warns_and_blocks_under_strict() {
    if !needs("psql", installed("psql")) {
        return;
    }
    let Some(_g) = write_lock() else { return };
    on_cluster(|| {
        let leader = wait_healthy(HEALTHY);
        let mut psql = hold_transaction(&leader);
        finally(
            || {
                let dry = |extra: &[&str]| {
                    patctl(
                        &[
                            &["switchover", "--dry-run", "--max-xact-age", "1"][..],
                            extra,
                        ]
                        .concat(),
                    )
                };
                let warn = format!("WARN: {leader}: transaction open for ");
                wait_until(
                    "the open transaction in the pre-flight",
                    Duration::from_secs(20),
                    || dry(&[]).stdout.contains(&warn),
                );
                let out = dry(&[]);
                out.code(0);
                assert!(
                    out.stdout.contains(&format!("application \"{APP}\"")),
                    "{}",
                    out.stdout
                );
                assert!(
                    out.stdout.contains("client connection(s) on"),
                    "{}",
                    out.stdout
                );

                let strict = dry(&["--strict"]);
                strict.code(1);
                assert!(
                    strict
                        .stdout
                        .contains(&format!("Blocked: {leader}: transaction open for ")),
                    "{}",
                    strict.stdout
                );
                assert!(
                    strict.stdout.contains("can not go ahead"),
                    "{}",
                    strict.stdout
                );

                let json = patctl(&[
                    "-o",
                    "json",
                    "switchover",
                    "--dry-run",
                    "--max-xact-age",
                    "1",
                ]);
                json.code(0);
                let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
                let pg = &v["data"]["postgresql"];
                assert_eq!(pg["member"], leader.as_str(), "{pg}");
                assert_eq!(pg["findings"][0]["check"], "transaction", "{pg}");
                assert_eq!(pg["findings"][0]["result"], "WARN", "{pg}");

                // A real switchover under --strict is refused before anything is written.
                let before = leader_key();
                let real = patctl(&["switchover", "--force", "--strict", "--max-xact-age", "1"]);
                real.code(1);
                assert!(
                    real.stderr
                        .contains("refused by the PostgreSQL pre-flight (--strict)"),
                    "{}",
                    real.stderr
                );
                assert_eq!(leader_key(), before, "the strict switchover switched");

                let wrong = dry(&["--dbuser", "patctl_no_such_user"]);
                wrong.code(0);
                let skipped: Vec<&str> = wrong
                    .stdout
                    .lines()
                    .filter(|l| l.starts_with("INFO: PostgreSQL checks skipped: "))
                    .collect();
                assert_eq!(skipped.len(), 1, "{}", wrong.stdout);
                assert!(!wrong.stdout.contains(&warn), "{}", wrong.stdout);

                let skip = dry(&["--skip-pg-checks", "--strict"]);
                skip.code(0);
                assert!(
                    skip.stdout
                        .contains("INFO: PostgreSQL checks skipped: --skip-pg-checks\n"),
                    "{}",
                    skip.stdout
                );
            },
            || {
                let _ = psql.kill();
                let _ = psql.wait();
            },
        );
    });
}
