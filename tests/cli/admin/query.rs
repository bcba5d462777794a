//! `query` against the sandbox's PostgreSQL, compared with the real patronictl: rows, formats,
//! errors as rows with honest exit codes, and an unreachable member bounded by the timeout.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use super::*;

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
