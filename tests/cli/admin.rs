//! `remove`, `dsn`, `query`, `version`, `demote-cluster` and `promote-cluster` against the sandbox,
//! compared with the real patronictl; error paths use scratch scopes and tiny fake servers.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::common::*;

const PG_ENV: &[(&str, &str)] = &[("PGPASSWORD", "postgres")];

/// `query ARGS` with the sandbox superuser, through patctl and patronictl.
fn query_both(args: &[&str]) -> (Out, Out) {
    let c = config();
    let mut full = vec!["-c", c.as_str(), "query", "-U", "postgres"];
    full.extend_from_slice(args);
    (
        Tool::Patctl.run(&full, None, PG_ENV),
        Tool::Patronictl.run(&full, None, PG_ENV),
    )
}

/// Blank out the leading `YYYY-MM-DD HH:MM:SS` of error rows.
fn mask_ts(s: &str) -> String {
    s.lines()
        .map(|l| match l.get(..19) {
            Some(ts)
                if ts.as_bytes().get(4) == Some(&b'-') && ts.as_bytes().get(13) == Some(&b':') =>
            {
                format!("<ts>{}", &l[19..])
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A scratch cluster whose leader `m1` has the given conn_url / api_url ports; returns (scope, base).
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
fn query_reads_real_rows_like_patronictl() {
    let Some(_g) = read_lock() else { return };
    let leader = wait_healthy(Duration::from_secs(60));
    let replica = ["node1", "node2", "node3"]
        .into_iter()
        .find(|n| *n != leader)
        .unwrap();
    let pg_base: u16 = env("SANDBOX_PG_BASE").parse().unwrap();
    let port_of = |n: &str| pg_base + n.trim_start_matches("node").parse::<u16>().unwrap();
    let sql = "SELECT pg_is_in_recovery() AS rec, current_setting('port') AS port";

    let (ours, theirs) = query_both(&["-c", sql]);
    ours.code(0);
    assert_eq!(
        ours.stdout,
        format!("rec\tport\nFalse\t{}\n", port_of(&leader))
    );
    assert_eq!(ours.stdout, theirs.stdout);

    let (ours, theirs) = query_both(&["-m", replica, "-c", sql]);
    ours.code(0);
    assert_eq!(
        ours.stdout,
        format!("rec\tport\nTrue\t{}\n", port_of(replica))
    );
    assert_eq!(ours.stdout, theirs.stdout);

    // Typed values rendered as psycopg2 + str() would, in every format.
    let typed =
        "SELECT 1 AS i, 1.5::float8 AS f, 100::float8 AS g, 1.50::numeric AS n, true AS b, \
        NULL AS z, 'x'::text AS t, '2024-01-01 10:00:00.5+00'::timestamptz AS ts, \
        '1 day 01:00:03.5'::interval AS iv, '{\"a\": [1, \"b\", null]}'::jsonb AS j, \
        ARRAY['a', 'b''c', NULL] AS arr, int4range(1, 10) AS r";
    for extra in [
        &[][..],
        &["--format", "pretty"],
        &[
            "--format",
            "json",
            "-c",
            "SELECT 1 AS i, 1.5::float8 AS f, true AS b, NULL AS z, 'é' AS t",
        ],
        &[
            "--format",
            "yaml",
            "-c",
            "SELECT 1 AS i, 'x' AS t, '{\"a\": [1, null]}'::json AS j",
        ],
        &["--delimiter", ";"],
        &["-r", "replica"],
        &["-r", "primary", "-d", "template1"],
    ] {
        let mut args = extra.to_vec();
        if !extra.contains(&"-c") {
            args.extend(["-c", typed]);
        }
        let (ours, theirs) = query_both(&args);
        ours.code(0);
        assert_eq!(ours.stdout, theirs.stdout, "{args:?}");
    }
    let (ours, _) = query_both(&["-c", typed]);
    assert!(
        ours.stdout.ends_with(
            "1\t1.5\t100.0\t1.50\tTrue\tNone\tx\t2024-01-01 10:00:00.500000+00:00\t\
             1 day, 1:00:03.500000\t{'a': [1, 'b', None]}\t['a', \"b'c\", None]\t[1, 10)\n"
        ),
        "{}",
        ours.stdout
    );
    // Several statements: the last result, typed too.
    let (ours, theirs) = query_both(&["-c", "SET TimeZone = 'Asia/Kolkata'; SELECT true AS b, ARRAY['2024-01-01 10:00:00+00'::timestamptz] AS a"]);
    ours.code(0);
    assert_eq!(ours.stdout, theirs.stdout);
    assert!(ours
        .stdout
        .starts_with("b\ta\nTrue\t[datetime.datetime(2024, 1, 1, 15, 30, "));
}

#[test]
fn query_errors_are_rows_with_an_honest_exit_code() {
    let Some(_g) = read_lock() else { return };
    wait_healthy(Duration::from_secs(60));
    for (args, row, code) in [
        (
            &["-m", "nosuch", "-c", "select 1"][..],
            "<ts>\tNo connection to member nosuch is available\n",
            1,
        ),
        (
            &["-r", "standby-leader", "-c", "select 1"],
            "<ts>\tNo connection to role 'standby-leader' is available\n",
            1,
        ),
        (&["-c", "select 1/0"], "<ts>\tERROR, SQLSTATE: 22012\n", 1),
        (
            &["-c", "create temp table t(a int)"],
            "<ts>\tERROR, SQLSTATE: no results to fetch\n",
            1,
        ),
        (
            &["-c", " -- nothing"],
            "<ts>\tERROR, SQLSTATE: can't execute an empty query\n",
            1,
        ),
        (&["-c", "select 1/0", "--format", "json"], "[{}]\n", 1),
    ] {
        let (ours, theirs) = query_both(args);
        theirs.code(0);
        ours.code(code);
        assert_eq!(mask_ts(&ours.stdout), row.trim_end(), "{args:?}");
        assert_eq!(mask_ts(&ours.stdout), mask_ts(&theirs.stdout), "{args:?}");
    }
    // A wrong password is a server rejection, worded as libpq words it.
    let c = config();
    let args = [
        "-c",
        c.as_str(),
        "query",
        "-U",
        "postgres",
        "-c",
        "select 1",
    ];
    let ours = Tool::Patctl.run(&args, None, &[("PGPASSWORD", "wrong")]);
    let theirs = Tool::Patronictl.run(&args, None, &[("PGPASSWORD", "wrong")]);
    ours.code(1);
    assert!(ours
        .stdout
        .contains("password authentication failed for user \"postgres\""));
    assert_eq!(mask_ts(&ours.stdout), mask_ts(&theirs.stdout));
    // Usage errors are errors, as in patronictl.
    let (ours, theirs) = query_both(&["-r", "replica", "-m", "node1", "-c", "select 1"]);
    ours.code(1);
    theirs.code(1);
    assert_eq!(
        ours.stderr,
        "Error: --role and --member are mutually exclusive options\n"
    );
    let (ours, _) = query_both(&[]);
    ours.code(1);
    assert_eq!(
        ours.stderr,
        "Error: You need to specify either --command or --file\n"
    );
}

#[test]
fn query_to_an_unreachable_member_is_bounded() {
    let Some(_g) = read_lock() else { return };
    let refused = closed_port();
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let (scope, base) = scratch_cluster("qry", refused, closed_port(), true);
    etcd_put(
        &format!("{base}/members/m2"),
        &format!(
            r#"{{"conn_url":"postgres://127.0.0.1:{silent_port}/postgres","state":"running"}}"#
        ),
    );
    with_scratch(&base, || {
        let (ours, theirs) = query_both(&[&scope, "-c", "select 1"]);
        ours.code(3);
        let want = format!(
            "<ts>\tERROR, SQLSTATE: connection to server at \"127.0.0.1\", port {refused} failed: \
             Connection refused \tIs the server running on that host and accepting TCP/IP connections? "
        );
        assert_eq!(mask_ts(&ours.stdout), want);
        assert_eq!(mask_ts(&ours.stdout), mask_ts(&theirs.stdout));
        // A server that accepts and never answers: patronictl's 5 s connect_timeout.
        let started = Instant::now();
        let (ours, _) = {
            let c = config();
            let args = [
                "-c",
                c.as_str(),
                "query",
                &scope,
                "-m",
                "m2",
                "-c",
                "select 1",
            ];
            (Tool::Patctl.run(&args, None, PG_ENV), ())
        };
        assert!(started.elapsed() < Duration::from_secs(10));
        ours.code(3);
        assert_eq!(
            mask_ts(&ours.stdout),
            format!("<ts>\tERROR, SQLSTATE: connection to server at \"127.0.0.1\", port {silent_port} failed: timeout expired ")
        );
    });
    drop(silent);
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
