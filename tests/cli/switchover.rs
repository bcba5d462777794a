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
                assert!(row(&no, "node1").contains("is the leader"));
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

/// A two-member cluster in a scratch scope whose REST APIs are at `api`.
fn synthetic(tag: &str, api: &str) -> (String, String) {
    let scope = scratch_scope(tag);
    let base = format!("/service/{scope}");
    etcd_put(&format!("{base}/initialize"), "7334869384651563031");
    etcd_put(&format!("{base}/config"), r#"{"ttl":30,"loop_wait":10}"#);
    etcd_put(&format!("{base}/leader"), "pg1");
    etcd_put(&format!("{base}/status"), r#"{"optime":67109208}"#);
    etcd_put(
        &format!("{base}/members/pg1"),
        &format!(
            r#"{{"conn_url":"postgres://127.0.0.1:5432/postgres","api_url":"{api}/patroni","state":"running","role":"primary","version":"4.1.5","xlog_location":67109208,"timeline":5}}"#
        ),
    );
    etcd_put(
        &format!("{base}/members/pg2"),
        &format!(
            r#"{{"conn_url":"postgres://127.0.0.1:5433/postgres","api_url":"{api}/patroni","state":"running","role":"replica","version":"4.1.5","replication_state":"streaming","receive_lsn":67109208,"replay_lsn":67109208,"timeline":5}}"#
        ),
    );
    (scope, base)
}

/// Run `f` with a scratch cluster and remove it afterwards.
fn with_synthetic(tag: &str, api: &str, f: impl FnOnce(&str, &str) + std::panic::UnwindSafe) {
    let (scope, base) = synthetic(tag, api);
    with_prefix_removed(&base, || f(&scope, &base));
}

#[test]
fn rest_rejection_prints_patronictl_line_and_exits_1() {
    let Some(_g) = read_lock() else { return };
    let body = "candidate name does not match with sync_standby";
    let fake = fake_api(&[Reply::Status(412, body)]);
    let (url, seen) = (fake.url(), fake.seen.clone());
    with_synthetic("sw412", &url, |scope, _| {
        let args = ["switchover", scope, "--candidate", "pg2", "--force"];
        let ours = patctl(&args);
        let theirs = patronictl(&args);
        assert_eq!(ours.stdout, theirs.stdout);
        assert!(ours
            .stdout
            .ends_with(&format!("+\nSwitchover failed, details: 412, {body}\n")));
        theirs.code(0);
        ours.code(1);
        // After the rejection patctl's pre-flight reads every member (GET /patroni): reads only.
        let (requests, reads): (Vec<String>, Vec<String>) = seen
            .lock()
            .unwrap()
            .clone()
            .into_iter()
            .partition(|r| !r.starts_with("GET "));
        assert!(
            reads.iter().all(|r| r.starts_with("GET /patroni ")),
            "{reads:?}"
        );
        assert_eq!(requests.len(), 2, "one POST from each tool");
        for r in &requests {
            assert!(r.starts_with("POST /switchover HTTP/1.1\r\n"), "{r}");
            assert!(
                r.ends_with("\r\n\r\n{\"candidate\": \"pg2\", \"leader\": \"pg1\"}"),
                "{r}"
            );
            assert!(
                r.to_lowercase()
                    .contains("authorization: basic ywrtaw46ywrtaw4="),
                "{r}"
            );
        }
    });
}

#[test]
fn rest_503_failed_and_unknown() {
    let Some(_g) = read_lock() else { return };
    let url = fake_api(&[
        Reply::Status(503, "Failover failed"),
        Reply::Status(503, "Switchover status unknown"),
        Reply::Status(503, "Switchover status unknown"),
    ])
    .url();
    with_synthetic("sw503", &url, |scope, _| {
        let failed = patctl(&["failover", scope, "--candidate", "pg2", "--force"]);
        failed.code(1);
        assert!(failed
            .stdout
            .ends_with("+\nFailover failed, details: 503, Failover failed\n"));
        let unknown = patctl(&["switchover", scope, "--candidate", "pg2", "--force"]);
        unknown.code(5);
        assert!(unknown
            .stdout
            .ends_with("+\nSwitchover failed, details: 503, Switchover status unknown\n"));
        assert!(
            unknown.stderr.contains("outcome is unknown"),
            "{}",
            unknown.stderr
        );
        // With --wait, 503 "status unknown" is not a verdict: the DCS is. Here Patroni dropped the
        // request (no failover key) and pg1 kept the lock, so it did fail.
        let waited = patctl(&[
            "switchover",
            scope,
            "--candidate",
            "pg2",
            "--force",
            "--wait",
        ]);
        waited.code(1);
        assert!(
            waited
                .stderr
                .contains("Error: Switchover failed: the failover key was removed and pg1 is still the leader"),
            "{}",
            waited.stderr
        );
    });
}

#[test]
fn hanging_leader_with_wait_times_out_as_unknown() {
    let Some(_g) = read_lock() else { return };
    let url = fake_api(&[Reply::Hang]).url();
    with_synthetic("swhang", &url, |scope, _| {
        let started = Instant::now();
        let out = patctl(&[
            "switchover",
            scope,
            "--candidate",
            "pg2",
            "--force",
            "--wait",
            "--timeout",
            "2",
        ]);
        out.code(5);
        let took = started.elapsed();
        assert!(
            took >= Duration::from_secs(2) && took < Duration::from_secs(10),
            "{took:?}"
        );
        assert!(
            out.stderr.contains("Switchover not confirmed after"),
            "{}",
            out.stderr
        );
    });
}

#[test]
fn unreachable_leader_falls_back_to_dcs_like_patronictl() {
    let Some(_g) = read_lock() else { return };
    with_synthetic("swdcs", "http://127.0.0.1:1", |scope, base| {
        let key = format!("{base}/failover");
        let args = ["switchover", scope, "--candidate", "pg2", "--force"];
        let theirs = patronictl(&args);
        theirs.code(0);
        let their_key = etcd_get(&key);
        etcdctl(&["del", &key]).code(0);

        let ours = patctl(&args);
        assert_eq!(normalize(&ours.stdout), normalize(&theirs.stdout));
        assert!(normalize(&ours.stdout)
            .contains("\nTIMESTAMP Could not switchover using Patroni api, falling back to DCS\n"));
        assert_eq!(etcd_get(&key), their_key);
        assert_eq!(
            their_key.as_deref(),
            Some(r#"{"leader":"pg1","member":"pg2"}"#)
        );
        // Written, but nobody has acted on it: the outcome is not known yet.
        ours.code(5);
        assert!(
            ours.stderr.contains("Failing over to DCS"),
            "{}",
            ours.stderr
        );

        // A scheduled switchover through the DCS is done once the key holds it.
        etcdctl(&["del", &key]).code(0);
        let sched = patctl(&[
            "switchover",
            scope,
            "--candidate",
            "pg2",
            "--force",
            "--scheduled",
            "2030-01-01T10:00+00:00",
        ]);
        sched.code(0);
        assert_eq!(
            etcd_get(&key).as_deref(),
            Some(r#"{"leader":"pg1","member":"pg2","scheduled_at":"2030-01-01T10:00:00+00:00"}"#)
        );

        // With --wait, the key is followed until the deadline: no Patroni acts on it here.
        etcdctl(&["del", &key]).code(0);
        let waited = patctl(&[
            "failover",
            scope,
            "--candidate",
            "pg2",
            "--force",
            "--wait",
            "--timeout",
            "1.5",
        ]);
        waited.code(5);
        assert_eq!(etcd_get(&key).as_deref(), Some(r#"{"member":"pg2"}"#));
    });
}

#[test]
fn new_flags_are_validated() {
    let out = patctl_raw(&["switchover", "--timeout", "5"], None, &[]);
    out.code(2);
    assert!(out.stderr.contains("--wait"), "{}", out.stderr);
    let out = patctl_raw(&["failover", "--wait", "--dry-run"], None, &[]);
    out.code(2);
    let out = patctl_raw(&["switchover", "--wait", "--timeout", "soon"], None, &[]);
    out.code(2);
}

#[test]
fn synthetic_prompts_and_checks_match_patronictl() {
    // Cluster states the sandbox does not have: synchronous mode, standby cluster, no leader,
    // paused, only nofailover replicas. Every case stops before a request is sent.
    let Some(_g) = read_lock() else { return };
    with_synthetic("swprompts", "http://127.0.0.1:1", |scope, base| {
        let config = format!("{base}/config");
        let check = |args: &[&str], input: &str| {
            let mut full = args.to_vec();
            full.insert(1, scope);
            let out = assert_same_piped(&full, input);
            out.code(1);
            out
        };
        etcd_put(
            &format!("{base}/sync"),
            r#"{"leader":"pg1","sync_standby":null}"#,
        );
        etcd_put(&config, r#"{"loop_wait":10,"synchronous_mode":true}"#);
        let out = check(&["failover", "--candidate", "pg2"], "n\n");
        assert!(out
            .stdout
            .ends_with("Are you sure you want to failover to the asynchronous node pg2? [y/N]: "));
        assert_eq!(out.stderr, "Error: Aborting failover\n");
        check(&["failover", "--candidate", "pg2"], "y\nn\n");

        etcd_put(
            &config,
            r#"{"standby_cluster":{"host":"10.0.0.9","port":5432}}"#,
        );
        let out = check(&["switchover"], "\n\n\nn\n");
        assert!(out
            .stdout
            .contains("\nStandby Leader [pg1]: Candidate ['pg2'] []: "));

        etcd_put(&config, r#"{"pause":true}"#);
        let out = check(
            &[
                "switchover",
                "--candidate",
                "pg2",
                "--scheduled",
                "2030-01-01T10:00Z",
            ],
            "\n\n",
        );
        assert_eq!(
            out.stderr,
            "Error: Can't schedule switchover in the paused state\n"
        );

        etcd_put(&config, r#"{"loop_wait":10}"#);
        etcdctl(&["del", &format!("{base}/leader")]).code(0);
        check(&["switchover", "--force"], "");
        let out = check(&["failover"], "pg2\nn\n");
        // No leader: the POST would go to the candidate, and nobody is "demoted".
        assert!(out.stdout.ends_with(&format!(
            "Are you sure you want to failover cluster {scope}? [y/N]: "
        )));

        etcd_put(&format!("{base}/leader"), "pg1");
        let pg2 = etcd_get(&format!("{base}/members/pg2")).unwrap();
        etcd_put(
            &format!("{base}/members/pg2"),
            &pg2.replacen('{', r#"{"tags":{"nofailover":true},"#, 1),
        );
        let out = check(&["switchover", "--force"], "");
        assert_eq!(out.stderr, "Error: No candidates found to switchover to\n");
        let out = check(&["failover", "--candidate", "pg2", "--force"], "");
        assert_eq!(out.stderr, "Error: No candidates found to failover to\n");
    });
}

/// The member key of `node` as JSON.
fn member_json(node: &str) -> serde_json::Value {
    let raw = etcd_get(&format!("/service/demo/members/{node}")).unwrap_or_default();
    serde_json::from_str(&raw).unwrap_or_default()
}

/// The stage `name` of a `Switchover` document.
fn stage<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    doc["data"]["wait"]["stages"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no stage {name} in {doc}"))
}

#[test]
fn wait_json_returns_once_the_former_leader_streams_again() {
    let Some(_g) = write_lock() else { return };
    on_cluster(|| {
        let out = patctl(&[
            "switchover",
            "--candidate",
            "node2",
            "--force",
            "--wait",
            "-o",
            "json",
        ]);
        // Read at once: the DCS must already show what the JSON says.
        let node1 = member_json("node1");
        let node2 = member_json("node2");
        out.code(0);
        let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("one JSON document");
        crate::schema::assert_valid("Switchover", &doc);
        let data = &doc["data"];
        assert_eq!(data["request"]["outcome"], "succeeded");
        assert_eq!(data["request"]["httpStatus"], 200);
        assert_eq!(data["newLeader"], "node2");
        assert_eq!(data["wait"]["completed"], true);
        for name in ["leader", "rejoin", "replicas"] {
            let s = stage(&doc, name);
            assert_eq!(s["reached"], true, "{s}");
            assert!(s["elapsedSeconds"].as_f64().unwrap() > 0.0, "{s}");
        }
        let rejoin = &stage(&doc, "rejoin")["details"]["member"];
        assert_eq!(rejoin["name"], "node1");
        assert_eq!(rejoin["replicationState"], "streaming");
        assert_eq!(node1["replication_state"], "streaming", "{node1}");
        assert_eq!(node1["timeline"], node2["timeline"]);
        assert_eq!(rejoin["timeline"], node2["timeline"]);
        assert!(
            stage(&doc, "leader")["details"]["timeline"].as_i64()
                > stage(&doc, "leader")["details"]["previousTimeline"].as_i64()
        );
        assert!(
            out.stderr.contains("\nStages:\n  leader    reached "),
            "{}",
            out.stderr
        );
    });
}

#[test]
fn a_replica_that_does_not_stream_fails_the_wait_with_exit_8() {
    let Some(_g) = write_lock() else { return };
    on_cluster(|| {
        // nostream: Patroni keeps node3 from streaming, so it cannot follow the new timeline and
        // falls behind the new leader.
        tag_member("node3", "{nostream: true}");
        finally(
            || {
                let out = patctl(&[
                    "switchover",
                    "--candidate",
                    "node2",
                    "--force",
                    "--wait",
                    "--wait-timeout",
                    "20",
                    "-o",
                    "json",
                ]);
                out.code(8);
                let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
                crate::schema::assert_valid("Switchover", &doc);
                assert_eq!(doc["error"]["exitCode"], 8);
                let msg = doc["error"]["message"].as_str().unwrap();
                assert!(
                    msg.contains("replicas not reached") && msg.contains("node3"),
                    "{msg}"
                );
                assert_eq!(stage(&doc, "leader")["reached"], true);
                assert_eq!(stage(&doc, "rejoin")["reached"], true);
                let replicas = stage(&doc, "replicas");
                assert_eq!(replicas["reached"], false);
                assert_eq!(replicas["blocking"], serde_json::json!(["node3"]));
                assert!(
                    out.stderr.contains("replicas  NOT reached"),
                    "{}",
                    out.stderr
                );
            },
            || tag_member("node3", "{}"),
        );
    });
}

#[test]
fn a_nofailover_candidate_gets_412_and_the_reason() {
    let Some(_g) = write_lock() else { return };
    on_cluster(|| {
        tag_member("node3", "{nofailover: true}");
        finally(
            || {
                // The DCS shows node3 without the tag (as before Patroni's next loop), so the
                // client-side check lets it through and Patroni, which asks node3 itself, refuses.
                let key = "/service/demo/members/node3";
                let mut m = member_json("node3");
                m.as_object_mut().unwrap().remove("tags");
                etcd_put(key, &m.to_string());
                let out = patctl(&["switchover", "--candidate", "node3", "--force"]);
                out.code(1);
                assert!(
                    out.stdout.ends_with(
                        "Switchover failed, details: 412, switchover is not possible: no good candidates have been found\n"
                    ),
                    "{}",
                    out.stdout
                );
                assert!(
                    out.stderr
                        .contains("Pre-flight reasons:\n  node3: tagged nofailover"),
                    "{}",
                    out.stderr
                );
            },
            || tag_member("node3", "{}"),
        );
        assert_eq!(wait_healthy(HEALTHY), "node1");
    });
}
