//! `remove`, `dsn`, `query`, `version`, `demote-cluster` and `promote-cluster` against the sandbox,
//! compared with the real patronictl; error paths use scratch scopes and tiny fake servers.
//! `query` has its own file.

use std::time::{Duration, Instant};

use crate::common::*;

const PG_ENV: &[(&str, &str)] = &[("PGPASSWORD", "postgres")];

mod query;

fn scratch_cluster(tag: &str, pg_port: u16, api_port: u16, leader: bool) -> (String, String) {
    let scope = scratch_scope(tag);
    let base = format!("/service/{scope}");
    etcd_put(&format!("{base}/initialize"), "7334869384651563031");
    etcd_put(&format!("{base}/config"), r#"{"ttl":30,"loop_wait":10}"#);
    if leader {
        etcd_put(&format!("{base}/leader"), "m1");
    }
    etcd_put(
        &format!("{base}/members/m1"),
        &format!(
            r#"{{"conn_url":"postgres://127.0.0.1:{pg_port}/postgres","api_url":"http://127.0.0.1:{api_port}/patroni","state":"running","role":"primary","version":"4.1.5","timeline":1}}"#
        ),
    );
    (scope, base)
}

/// Run `f`, then always delete the scratch prefix.
fn with_scratch(base: &str, f: impl FnOnce() + std::panic::UnwindSafe) {
    with_prefix_removed(base, f);
}

#[test]
fn dsn_and_version_match_patronictl() {
    let Some(_g) = read_lock() else { return };
    let leader = wait_healthy(Duration::from_secs(60));
    for args in [
        &["dsn"][..],
        &["dsn", "demo"],
        &["dsn", "-r", "replica"],
        &["dsn", "-r", "primary"],
        &["dsn", "-m", "node2"],
        &["version"],
        &["version", "demo"],
        &["version", "demo", "node2"],
        &["version", "demo", "node3", "node1"],
        &["version", "demo", "nosuch"],
    ] {
        assert_same(args);
    }
    let dsn = patctl(&["dsn"]);
    dsn.code(0);
    let leader_port = env("SANDBOX_PG_BASE").parse::<u16>().unwrap()
        + leader.trim_start_matches("node").parse::<u16>().unwrap();
    assert_eq!(dsn.stdout, format!("host=127.0.0.1 port={leader_port}\n"));
    let v = patctl(&["version", "demo"]);
    assert_eq!(v.stdout.lines().count(), 5, "{}", v.stdout);
    assert!(v.stdout.contains("node2: Patroni 4.1.5 PostgreSQL 15."));
    // Errors: exit 1 with patronictl's message, on both tools.
    for (args, msg) in [
        (
            &["dsn", "-m", "nosuch"][..],
            "Error: Can not find a suitable member\n",
        ),
        (
            &["dsn", "-r", "standby-leader"],
            "Error: Can not find a suitable member\n",
        ),
        (
            &["dsn", "-r", "replica", "-m", "node1"],
            "Error: --role and --member are mutually exclusive options\n",
        ),
    ] {
        let (ours, theirs) = both(args);
        ours.code(1);
        theirs.code(1);
        assert_eq!(ours.stderr, msg);
        assert_eq!(theirs.stderr, msg);
    }
}

#[test]
fn version_reports_unreachable_members() {
    let Some(_g) = read_lock() else { return };
    let hanging = fake_api(&[Reply::Hang]).port;
    let (scope, base) = scratch_cluster("ver", closed_port(), closed_port(), true);
    etcd_put(
        &format!("{base}/members/m2"),
        &format!(
            r#"{{"conn_url":"postgres://127.0.0.1:1/postgres","api_url":"http://127.0.0.1:{hanging}/patroni","state":"running"}}"#
        ),
    );
    with_scratch(&base, || {
        let c = config();
        let started = Instant::now();
        let out = patctl_raw(&["-c", &c, "--timeout", "1", "version", &scope], None, &[]);
        assert!(started.elapsed() < Duration::from_secs(10), "not bounded");
        out.code(3);
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(lines[..2], ["patronictl version 4.1.5", ""]);
        assert!(
            lines[2].starts_with("m1: failed to get version: "),
            "{}",
            out.stdout
        );
        assert!(
            lines[3].starts_with("m2: failed to get version: "),
            "{}",
            out.stdout
        );
        // patronictl prints the same kind of lines (and exits 0).
        let theirs = patronictl(&["version", &scope, "m1"]);
        assert!(
            theirs.stdout.contains("m1: failed to get version: "),
            "{}",
            theirs.stdout
        );
    });
}

#[test]
fn remove_deletes_only_the_named_scope() {
    let Some(_g) = read_lock() else { return };
    let (scope, base) = scratch_cluster("rm", closed_port(), closed_port(), true);
    let sibling = format!("{base}x/keep");
    etcd_put(&sibling, "1");
    let demo_keys = etcd_keys("/service/demo/");
    assert!(!demo_keys.is_empty());
    with_scratch(&base, || {
        let before = etcd_keys(&format!("{base}/"));
        assert_eq!(before.len(), 4);
        // Wrong answers: patronictl's messages, exit 1, nothing deleted; same prompts as patronictl.
        for (input, msg) in [
            ("wrong\n", "Error: Cluster names specified do not match\n"),
            (
                &*format!("{scope}\nyes\n"),
                "Error: You did not exactly type \"Yes I am aware\"\n",
            ),
            (
                &*format!("{scope}\nYes I am aware\nm2\n"),
                "Error: You did not specify the current leader of the cluster\n",
            ),
            (&*format!("{scope}\n"), "Aborted!\n"),
        ] {
            let ours = patctl_stdin(&["remove", &scope], input);
            ours.code(1);
            assert_eq!(ours.stderr, msg);
            let c = config();
            let theirs = patronictl_raw_stdin(&["-c", &c, "remove", &scope], input);
            assert_eq!(ours.stdout, theirs.stdout);
            assert_eq!(ours.stderr, theirs.stderr);
            assert_eq!(etcd_keys(&format!("{base}/")), before);
        }
        // The scripted form checks its answers the same way.
        for (flags, msg) in [
            (
                vec![
                    "--confirm-cluster",
                    "other",
                    "--yes-i-am-aware",
                    "--confirm-leader",
                    "m1",
                ],
                "Error: Cluster names specified do not match\n",
            ),
            (
                vec![
                    "--confirm-cluster",
                    scope.as_str(),
                    "--yes-i-am-aware",
                    "--confirm-leader",
                    "m2",
                ],
                "Error: You did not specify the current leader of the cluster\n",
            ),
            (
                vec!["--confirm-cluster", scope.as_str(), "--yes-i-am-aware"],
                "Aborted!\n",
            ),
        ] {
            let mut args = vec!["remove", scope.as_str()];
            args.extend(flags.iter().copied());
            let ours = patctl(&args);
            ours.code(1);
            assert_eq!(ours.stderr, msg);
            assert_eq!(etcd_keys(&format!("{base}/")), before);
        }
        patctl(&["remove", &scope, "--force"]).code(2);
        assert_eq!(etcd_keys(&format!("{base}/")), before);

        let ok = patctl(&[
            "remove",
            &scope,
            "--confirm-cluster",
            &scope,
            "--yes-i-am-aware",
            "--confirm-leader",
            "m1",
        ]);
        ok.code(0);
        assert!(ok.stdout.contains("| m1 "), "{}", ok.stdout);
        assert!(etcd_keys(&format!("{base}/")).is_empty());
        assert_eq!(etcd_get(&sibling).as_deref(), Some("1"));
        assert_eq!(etcd_keys("/service/demo/"), demo_keys);

        // Typed answers work too, and a cluster without a leader is not asked for one.
        let (scope2, base2) = scratch_cluster("rm2", closed_port(), closed_port(), false);
        let typed = patctl_stdin(&["remove", &scope2], &format!("{scope2}\nYes I am aware\n"));
        typed.code(0);
        assert!(
            typed.stdout.ends_with("please type: \"Yes I am aware\": "),
            "{}",
            typed.stdout
        );
        let left = etcd_keys(&format!("{base2}/"));
        etcd_del_prefix(&format!("{base2}/"));
        assert!(left.is_empty(), "{left:?}");
    });
    etcd_del_prefix(&format!("{base}x/"));
}

#[test]
fn cluster_role_errors_match_patronictl() {
    let Some(_g) = read_lock() else { return };
    wait_healthy(Duration::from_secs(60));
    for (args, msg) in [
        (
            &["demote-cluster", "--force"][..],
            "Error: At least --host, --port or --restore-command should be specified\n",
        ),
        (
            &["promote-cluster", "--force"],
            "Error: Cluster is already in the required state\n",
        ),
    ] {
        let (ours, theirs) = both(args);
        ours.code(1);
        theirs.code(1);
        assert_eq!(ours.stderr, msg);
        assert_eq!(theirs.stderr, msg);
    }
    // No leader.
    let (scope, base) = scratch_cluster("noleader", closed_port(), closed_port(), false);
    with_scratch(&base, || {
        let (ours, theirs) = both(&["demote-cluster", &scope, "--port", "5999", "--force"]);
        ours.code(1);
        assert_eq!(
            ours.stderr,
            "Error: Cluster has no leader, demotion is not possible\n"
        );
        assert_eq!(ours.stderr, theirs.stderr);
    });
    // The leader refuses the PATCH: the same table and the same (doubly wrapped) message.
    let refusing_api = fake_api(&[Reply::Status(409, "Conflict")]);
    let refusing = refusing_api.port;
    let (scope, base) = scratch_cluster("conflict", closed_port(), refusing, true);
    with_scratch(&base, || {
        let args = [
            "demote-cluster",
            &scope,
            "--host",
            "10.0.0.9",
            "--port",
            "5433",
            "--restore-command",
            "cp /a/%f %p",
            "--primary-slot-name",
            "",
            "--force",
        ];
        let ours = patctl(&args);
        let theirs = patronictl(&args);
        ours.code(1);
        // The same PATCH, body byte for byte.
        let seen = refusing_api.requests();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(seen[0], seen[1]);
        assert_eq!(
            seen[0],
            r#"PATCH /config {"standby_cluster": {"host": "10.0.0.9", "port": 5433, "restore_command": "cp /a/%f %p"}}"#
        );
        assert!(ours.stdout.starts_with("Current cluster topology\n"));
        assert_eq!(ours.stdout, theirs.stdout);
        assert_eq!(
            ours.stderr,
            format!("Error: Failed to demote {scope} cluster: Failed to demote {scope} cluster: /config PATCH status code=409, (Conflict)\n")
        );
        assert_eq!(ours.stderr, theirs.stderr);
        // Declining the confirmation.
        let no = patctl_stdin(&["demote-cluster", &scope, "--port", "1"], "n\n");
        no.code(1);
        assert!(no.stdout.ends_with(&format!(
            "Are you sure you want to demote {scope} cluster? [y/N]: "
        )));
        assert_eq!(no.stderr, "Error: Aborted cluster demotion\n");
    });
    // The leader accepts but the cluster never changes: patronictl would poll forever.
    let accepting = fake_api(&[Reply::Status(200, "{}")]).port;
    let (scope, base) = scratch_cluster("stuck", closed_port(), accepting, true);
    with_scratch(&base, || {
        let started = Instant::now();
        let out = patctl(&[
            "demote-cluster",
            &scope,
            "--host",
            "10.0.0.9",
            "--force",
            "--wait-timeout",
            "2",
        ]);
        assert!(started.elapsed() < Duration::from_secs(10));
        out.code(5);
        assert!(
            out.stdout.contains(
                " cluster is unlocked: False, leader role: primary, leader state: running\n"
            ),
            "{}",
            out.stdout
        );
        assert!(
            out.stderr
                .starts_with("Error: the cluster was not demoted within 2 s"),
            "{}",
            out.stderr
        );
    });
}

#[test]
fn demote_and_promote_round_trip() {
    let Some(_g) = write_lock() else { return };
    wait_healthy(Duration::from_secs(90));
    let upstream = closed_port();
    let result = std::panic::catch_unwind(|| {
        let out = patctl(&[
            "demote-cluster",
            "--host",
            "127.0.0.1",
            "--port",
            &upstream.to_string(),
            "--force",
        ]);
        out.code(0);
        assert!(out.stdout.starts_with("Current cluster topology\n"));
        assert!(
            out.stdout.contains(" cluster is successfully demoted\n"),
            "{}",
            out.stdout
        );
        let config: serde_json::Value =
            serde_json::from_str(&etcd_get("/service/demo/config").unwrap()).unwrap();
        assert_eq!(
            config["standby_cluster"],
            serde_json::json!({"host": "127.0.0.1", "port": upstream})
        );
        let rows: serde_json::Value =
            serde_json::from_str(&patctl(&["list", "-f", "json"]).stdout).unwrap();
        let roles: Vec<&str> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["Role"].as_str().unwrap())
            .collect();
        assert_eq!(
            roles.iter().filter(|r| **r == "Standby Leader").count(),
            1,
            "{roles:?}"
        );
        assert!(!roles.contains(&"Leader"));

        let out = patctl(&["promote-cluster", "--force"]);
        out.code(0);
        assert!(
            out.stdout.contains(" cluster is successfully promoted\n"),
            "{}",
            out.stdout
        );
        let config: serde_json::Value =
            serde_json::from_str(&etcd_get("/service/demo/config").unwrap()).unwrap();
        assert!(config.get("standby_cluster").is_none(), "{config}");
    });
    if result.is_err() {
        // Leave the cluster a primary cluster again whatever happened.
        let _ = patctl(&["promote-cluster", "--force", "--wait-timeout", "60"]);
    }
    let leader = wait_healthy(Duration::from_secs(120));
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
    let rows: serde_json::Value =
        serde_json::from_str(&patctl(&["list", "-f", "json"]).stdout).unwrap();
    let leaders: Vec<_> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["Role"] == "Leader")
        .collect();
    assert_eq!(leaders.len(), 1);
    assert_eq!(leaders[0]["Member"], leader.as_str());
}
