//! switchover/failover against synthetic clusters written into etcd whose members' REST APIs are
//! fakes: Patroni's rejections, 503s, a hanging leader, an unreachable leader (the DCS fallback),
//! flag validation, and patronictl's prompts and checks, each next to patronictl.

use std::time::{Duration, Instant};

use super::*;

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
