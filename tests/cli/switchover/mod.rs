//! `switchover` and `failover` on the sandbox cluster: real switches (node2 and back, failover to
//! node3), patronictl's prompts and messages byte for byte on piped stdin, a scheduled switchover in
//! `list`, `--dry-run`, `--wait`, the DCS fallback, and the REST error paths (a tiny fake Patroni on
//! 127.0.0.1 answering 412/503 or hanging, behind a synthetic cluster in a scratch scope).

use std::time::{Duration, Instant};

use crate::common::*;

const HEALTHY: Duration = Duration::from_secs(90);

fn leader_key() -> Option<String> {
    etcd_get("/service/demo/leader")
}

fn failover_key() -> Option<String> {
    etcd_get("/service/demo/failover")
}

/// History lines in the DCS (one more after every switch).
fn history_len() -> usize {
    etcd_get("/service/demo/history")
        .and_then(|h| serde_json::from_str::<serde_json::Value>(&h).ok())
        .and_then(|v| v.as_array().map(Vec::len))
        .unwrap_or(0)
}

/// Make `node` the leader of a healthy cluster (switching with patctl if needed).
fn ensure_leader(node: &str) {
    if wait_healthy(HEALTHY) != node {
        patctl(&["switchover", "--candidate", node, "--force", "--wait"]).code(0);
        assert_eq!(wait_healthy(HEALTHY), node);
    }
}

/// Run `f` on a healthy cluster led by node1 and leave it that way, even when `f` fails.
fn on_cluster(f: impl FnOnce() + std::panic::UnwindSafe) {
    ensure_leader("node1");
    finally(f, || ensure_leader("node1"));
}

/// Replace what legitimately differs between two runs: the example time in the schedule prompt,
/// the 5-digit timestamps of result lines, and LSNs (WAL may move between the runs).
fn normalize(s: &str) -> String {
    let mut out = String::new();
    for line in s.split_inclusive('\n') {
        let mut line = line.to_string();
        if let Some(i) = line.find("(e.g. ") {
            if let Some(j) = line[i..].find(" )") {
                line.replace_range(i + 6..i + j, "NEXT-HOUR");
            }
        }
        for (i, _) in line.clone().match_indices(" 20") {
            let cand = &line[i + 1..];
            if cand.len() >= 25 && cand.as_bytes()[10] == b' ' && cand.as_bytes()[19] == b'.' {
                line.replace_range(i + 1..i + 26, "TIMESTAMP");
                break;
            }
        }
        if line.starts_with("20") && line.as_bytes().get(19) == Some(&b'.') {
            line.replace_range(0..25, "TIMESTAMP");
        }
        out.push_str(&mask_lsns(&line));
    }
    out
}

fn mask_lsns(line: &str) -> String {
    let b: Vec<char> = line.chars().collect();
    let mut out = b.clone();
    let hex = |c: char| c.is_ascii_digit() || ('A'..='F').contains(&c);
    for (i, &c) in b.iter().enumerate() {
        if c != '/' {
            continue;
        }
        let mut l = i;
        while l > 0 && hex(b[l - 1]) {
            l -= 1;
        }
        let mut r = i + 1;
        while r < b.len() && hex(b[r]) {
            r += 1;
        }
        if l < i && r > i + 1 {
            for o in out.iter_mut().take(r).skip(l) {
                *o = '#';
            }
        }
    }
    out.into_iter().collect()
}

/// Both tools on the same stdin: normalized stdout, stderr and exit code must be equal (retried,
/// since a member key may change between the two runs).
#[track_caller]
fn assert_same_piped(args: &[&str], input: &str) -> Out {
    let (ours, theirs) = until_same(
        |tool| tool.on_sandbox(args, Some(input)),
        |ours, theirs| {
            normalize(&ours.stdout) == normalize(&theirs.stdout)
                && ours.stderr == theirs.stderr
                && ours.code == theirs.code
        },
    )
    .unwrap_or_else(|last| last);
    assert_eq!(
        normalize(&ours.stdout),
        normalize(&theirs.stdout),
        "{args:?} <<< {input:?}"
    );
    assert_eq!(ours.stderr, theirs.stderr, "{args:?} <<< {input:?}");
    assert_eq!(ours.code, theirs.code, "{args:?} <<< {input:?}");
    ours
}

#[test]
fn rejections_match_patronictl() {
    let Some(_g) = read_lock() else { return };
    let leader = wait_healthy(HEALTHY);
    let before = failover_key();
    for args in [
        &["switchover", "--candidate", "nosuch", "--force"][..],
        &["switchover", "--leader", "nosuch", "--force"],
        &["switchover", "--primary", "nosuch", "--candidate", "node2"],
        &["switchover", "--candidate", leader.as_str(), "--force"],
        &["failover", "--force"],
        &["failover", "--candidate", "nosuch", "--force"],
        &["failover", "--candidate", leader.as_str(), "--force"],
        &["switchover", "--scheduled", "bogus", "--force"],
    ] {
        let (ours, theirs) = both(args);
        assert_eq!(ours.stdout, theirs.stdout, "{args:?}");
        assert_eq!(ours.stderr, theirs.stderr, "{args:?}");
        ours.code(1);
        theirs.code(1);
        assert!(ours
            .stdout
            .starts_with("Current cluster topology\n+ Cluster: demo"));
    }
    let out = patctl(&["switchover", "--candidate", "nosuch", "--force"]);
    assert_eq!(
        out.stderr,
        "Error: Member nosuch does not exist in cluster demo or is tagged as nofailover\n"
    );
    let out = patctl(&["switchover", "--leader", "nosuch", "--force"]);
    assert_eq!(
        out.stderr,
        "Error: Member nosuch is not the leader of cluster demo\n"
    );
    assert_eq!(failover_key(), before, "a rejection writes nothing");
    assert_eq!(leader_key().as_deref(), Some(leader.as_str()));
}

#[test]
fn piped_answers_match_patronictl() {
    let Some(_g) = read_lock() else { return };
    let leader = wait_healthy(HEALTHY);
    let before = failover_key();
    let other = if leader == "node2" { "node3" } else { "node2" };
    for (args, input) in [
        (&["switchover"][..], "\n\n\nn\n".to_string()),
        (&["switchover"], format!("\n{other}\n\nmaybe\nn\n")),
        (&["switchover"], "\n\n".to_string()),
        (&["switchover"], "".to_string()),
        (&["switchover"], "\n\nbogus\n".to_string()),
        (
            &["switchover"],
            "\n\n2030-01-01T10:00+00:00\nN\n".to_string(),
        ),
        (&["switchover"], "nosuch\n".to_string()),
        (
            &["switchover", "--candidate", other],
            "\nnow\nno\n".to_string(),
        ),
        (&["failover"], format!("{other}\nn\n")),
        (&["failover"], "\n".to_string()),
        (&["failover", "--candidate", other], "".to_string()),
    ] {
        let out = assert_same_piped(args, &input);
        out.code(1);
    }
    // The whole conversation, exactly as patronictl prints it on a pipe.
    let out = patctl_stdin(&["switchover"], &format!("\n{other}\n\nn\n"));
    let tail = out.stdout.lines().last().unwrap().to_string();
    let mut expected = format!(
        "Primary [{leader}]: Candidate {} []: When should the switchover take place (e.g. NEXT-HOUR )  [now]: ",
        candidates_repr(&leader)
    );
    expected.push_str(&format!(
        "Are you sure you want to switchover cluster demo, demoting current leader {leader}? [y/N]: "
    ));
    assert_eq!(normalize(&tail), expected);
    assert_eq!(out.stderr, "Error: Aborting switchover\n");
    assert_eq!(failover_key(), before, "an abort writes nothing");
    assert_eq!(leader_key().as_deref(), Some(leader.as_str()));
}

fn candidates_repr(leader: &str) -> String {
    let names: Vec<String> = ["node1", "node2", "node3"]
        .iter()
        .filter(|n| **n != leader)
        .map(|n| format!("'{n}'"))
        .collect();
    format!("[{}]", names.join(", "))
}

#[test]
fn switchover_to_node2_and_back() {
    let Some(_g) = write_lock() else { return };
    on_cluster(|| {
        let history = history_len();
        // patronictl's conversation up to the confirmation, answered "no" (nothing happens)...
        let theirs = patronictl_stdin(&["switchover"], "\nnode2\n\nn\n");
        theirs.code(1);
        // ...and patctl's, answered "yes": the same text, then the switch.
        let ours = patctl_stdin(&["switchover"], "\nnode2\n\ny\n");
        ours.code(0);
        assert!(
            normalize(&ours.stdout).starts_with(&normalize(&theirs.stdout)),
            "ours:\n{}\ntheirs:\n{}",
            ours.stdout,
            theirs.stdout
        );
        let rest = &ours.stdout[theirs.stdout.len()..];
        let mut lines = rest.lines();
        let result = lines.next().unwrap();
        assert_eq!(
            normalize(result),
            "TIMESTAMP Successfully switched over to \"node2\""
        );
        assert!(lines.next().unwrap().starts_with("+ Cluster: demo ("));
        assert_eq!(leader_key().as_deref(), Some("node2"));
        assert_eq!(wait_healthy(HEALTHY), "node2");
        assert_eq!(history_len(), history + 1);

        // Back, unattended, following the switch to the end.
        let started = Instant::now();
        let back = patctl(&[
            "switchover",
            "--leader",
            "node2",
            "--candidate",
            "node1",
            "--force",
            "--wait",
        ]);
        back.code(0);
        assert!(started.elapsed() < Duration::from_secs(30));
        assert!(back
            .stdout
            .contains("Successfully switched over to \"node1\""));
        let last = back.stdout.lines().last().unwrap();
        assert!(
            last.starts_with("Switchover completed in ")
                && last.ends_with(" s: node1 is the leader"),
            "{last}"
        );
        // --wait means the new leader holds the key and runs as primary when patctl returns.
        assert_eq!(leader_key().as_deref(), Some("node1"));
        let status = rest_get(api_port(1), "patroni").unwrap();
        assert_eq!(status["role"], "primary");
        assert_eq!(history_len(), history + 2);
    });
}

#[test]
fn failover_to_node3() {
    let Some(_g) = write_lock() else { return };
    on_cluster(|| {
        let theirs = patronictl_stdin(&["failover", "--candidate", "node3"], "n\n");
        let ours = patctl(&["failover", "--candidate", "node3", "--force"]);
        ours.code(0);
        // patronictl prints the same topology before asking.
        let table_before = theirs.stdout.rsplit_once("+\n").unwrap().0;
        assert!(normalize(&ours.stdout).starts_with(&normalize(table_before)));
        assert!(
            ours.stdout
                .contains(" Successfully failed over to \"node3\"\n"),
            "{}",
            ours.stdout
        );
        assert_eq!(leader_key().as_deref(), Some("node3"));
        assert_eq!(wait_healthy(HEALTHY), "node3");
    });
}

#[test]
fn scheduled_switchover_is_shown_in_list() {
    let Some(_g) = write_lock() else { return };
    on_cluster(|| {
        let out = patctl(&[
            "switchover",
            "--candidate",
            "node2",
            "--scheduled",
            "2030-01-01T10:00:00+00:00",
            "--force",
        ]);
        let key = failover_key();
        let cleanup = || {
            let out = std::process::Command::new("curl")
                .args(["-sS", "-m", "10", "-u", "admin:admin", "-X", "DELETE"])
                .arg(format!("http://127.0.0.1:{}/switchover", api_port(1)))
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        finally(
            || {
                out.code(0);
                assert!(
                    normalize(&out.stdout).contains("\nTIMESTAMP Switchover scheduled\n"),
                    "{}",
                    out.stdout
                );
                let v: serde_json::Value = serde_json::from_str(key.as_deref().unwrap()).unwrap();
                assert_eq!(v["leader"], "node1");
                assert_eq!(v["member"], "node2");
                assert_eq!(v["scheduled_at"], "2030-01-01T10:00:00+00:00");
                let list = assert_same(&["list"]);
                assert!(
                    list.stdout.ends_with(
                        " Switchover scheduled at: 2030-01-01T10:00:00+00:00\n                    from: node1\n                      to: node2\n"
                    ),
                    "{}",
                    list.stdout
                );
                assert_eq!(leader_key().as_deref(), Some("node1"));
            },
            || {
                assert_eq!(cleanup(), "scheduled switchover deleted");
            },
        );
    });
}

#[test]
fn dry_run_reports_nofailover_and_writes_nothing() {
    let Some(_g) = write_lock() else { return };
    on_cluster(|| {
        tag_member("node3", "{nofailover: true}");
        finally(
            || {
                let failover = failover_key();
                let row = |out: &Out, node: &str| -> String {
                    out.stdout
                        .lines()
                        .find(|l| l.starts_with(&format!("| {node} ")))
                        .unwrap_or_else(|| panic!("no row for {node}:\n{}", out.stdout))
                        .to_string()
                };
                let no = patctl(&["switchover", "--candidate", "node3", "--dry-run"]);
                no.code(1);
                let r = row(&no, "node3");
                assert!(
                    r.contains("| FAIL ") && r.contains("tagged nofailover"),
                    "{r}"
                );
                assert!(row(&no, "node1").contains("| -      | current leader"));
                assert!(no
                    .stdout
                    .ends_with("Switchover can not go ahead (dry run: nothing was written)\n"));

                let yes = patctl(&["switchover", "--candidate", "node2", "--dry-run"]);
                yes.code(0);
                let r = row(&yes, "node2");
                assert!(r.contains("| PASS ") && r.contains("streaming"), "{r}");
                assert!(yes
                    .stdout
                    .ends_with("Switchover can go ahead (dry run: nothing was written)\n"));

                patctl(&["failover", "--candidate", "node3", "--dry-run"]).code(1);
                let wrong = patctl(&["switchover", "--leader", "node2", "--dry-run"]);
                wrong.code(1);
                assert!(wrong
                    .stdout
                    .contains("Blocked: Member node2 is not the leader of cluster demo\n"));
                let paused_sched = patctl(&[
                    "switchover",
                    "--scheduled",
                    "2001-01-01T00:00Z",
                    "--dry-run",
                ]);
                paused_sched.code(1);
                assert!(paused_sched
                    .stdout
                    .contains("Blocked: Cannot schedule switchover in the past"));

                assert_eq!(failover_key(), failover, "--dry-run wrote the failover key");
                assert_eq!(leader_key().as_deref(), Some("node1"));
            },
            || {
                tag_member("node3", "{}");
            },
        );
    });
}

// ---- synthetic clusters (scratch scopes) for the paths the live cluster cannot produce ----

mod pg_preflight;
mod synthetic;
mod wait;
