//! `doctor` in-process: the members' REST APIs are fakes (one healthy, one refusing the credentials,
//! one unreachable), the cluster is read from memory, and the configured etcd endpoint does not
//! answer.

use crate::harness::*;

#[test]
fn findings_per_member_and_exit_1_on_fail() {
    let ok = fake_api_routes(&[
        (
            "GET /patroni",
            Reply::Status(
                200,
                r#"{"server_version":150010,"patroni":{"version":"4.1.5"}}"#,
            ),
        ),
        ("POST /citus", Reply::Status(400, "")),
    ]);
    let refused = fake_api_routes(&[
        (
            "GET /patroni",
            Reply::Status(
                200,
                r#"{"server_version":160004,"patroni":{"version":"4.1.4"}}"#,
            ),
        ),
        ("POST /citus", Reply::Status(401, "no auth header received")),
    ]);
    let dead = dead_api();
    let w = World::demo([&ok.url(), &refused.url(), &dead]);
    let out = w.run(&["--request-timeout", "2", "doctor"]);
    out.code(1);
    let line = |target: &str, check: &str| {
        out.stdout
            .lines()
            .find(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                cols.get(2) == Some(&target) && cols.get(3) == Some(&check)
            })
            .unwrap_or_else(|| panic!("no {target} {check} line in:\n{}", out.stdout))
            .to_string()
    };
    assert!(line("http://127.0.0.1:1", "reachable").starts_with("FAIL  dcs"));
    assert!(line("node1", "reachable").starts_with("PASS  rest"));
    assert!(line("node1", "auth")
        .ends_with("no credentials needed (checked with an empty POST /citus)"));
    assert!(line("node1", "versions")
        .ends_with("Patroni 4.1.5, PostgreSQL 15.10: the members run different Patroni versions"));
    assert!(line("node1", "versions").starts_with("WARN"));
    assert!(line("node1", "clock").starts_with("SKIP"));
    let auth = line("node2", "auth");
    assert!(auth.starts_with("FAIL"), "{auth}");
    assert!(
        auth.contains("credentials refused (HTTP 401: no auth header received)"),
        "{auth}"
    );
    let dead_line = line("node3", "reachable");
    assert!(dead_line.starts_with("FAIL  rest"), "{dead_line}");
    assert!(dead_line.contains("cannot connect"), "{dead_line}");
    assert!(line("demo", "timeouts")
        .ends_with("loop_wait + 2*retry_timeout = 10 + 2*10 = 30 <= ttl 30"));
    assert!(line("demo", "maximum_lag_on_failover").starts_with("PASS"));
    let summary = out.stdout.lines().last().unwrap();
    assert!(summary.contains(" 3 FAIL, "), "{summary}");
    assert_eq!(out.stderr, "Error: 3 checks failed\n");
    // The probe of the authentication changes nothing: an empty event, answered 400 by Patroni.
    assert!(
        ok.requests().contains(&"POST /citus {}".to_string()),
        "{:?}",
        ok.requests()
    );
}

#[test]
fn patroni_timeout_rule_and_missing_lag_limit() {
    let ok = fake_api_routes(&[
        (
            "GET /patroni",
            Reply::Status(200, r#"{"patroni":{"version":"4.1.5"}}"#),
        ),
        ("POST /citus", Reply::Status(400, "")),
    ]);
    let w = World::demo_served_by(&ok);
    w.dcs.set(
        &World::key("config"),
        r#"{"ttl":30,"loop_wait":25,"retry_timeout":10}"#,
    );
    let out = w.run(&["--request-timeout", "1", "doctor"]);
    // Only the etcd endpoint (nothing listens on 127.0.0.1:1) fails.
    out.code(1);
    assert_eq!(out.stderr, "Error: 1 check failed\n");
    let text = &out.stdout;
    assert!(
        text.lines().any(|l| l.starts_with("WARN  config ")
            && l.split_whitespace().nth(2) == Some("demo")
            && l.ends_with(
                "loop_wait + 2*retry_timeout = 25 + 2*10 = 45 > ttl 30: Patroni runs with loop_wait=10"
            )),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("WARN  config")
            && l.contains("maximum_lag_on_failover")
            && l.ends_with("not set: Patroni's default of 1048576 bytes applies")),
        "{text}"
    );
    assert!(
        text.contains("Patroni 4.1.5, PostgreSQL version unknown (not running?)"),
        "{text}"
    );
    // The replication section: the leader runs, both replicas stream.
    let repl: Vec<&str> = text
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("replication"))
        .collect();
    assert_eq!(repl.len(), 3, "{text}");
    assert!(repl.iter().all(|l| l.starts_with("PASS")), "{text}");
    assert!(
        repl[1].ends_with("streaming from the leader node1, lag 0 bytes"),
        "{text}"
    );
}

#[test]
fn a_rest_client_that_cannot_be_made_is_a_finding() {
    let w = World::empty_with("ctl:\n  certfile: /nonexistent/client.crt\n");
    w.seed_demo("/service/demo/", [&dead_api(), &dead_api(), &dead_api()]);
    let out = w.run(&["--request-timeout", "1", "doctor"]);
    out.code(1);
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains(" client ") && l.contains("configuration"))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(line.starts_with("FAIL  rest"), "{line}");
    assert!(line.contains("/nonexistent/client.crt"), "{line}");
    // The configuration is still checked.
    assert!(out.stdout.contains("PASS  config"), "{}", out.stdout);
}
