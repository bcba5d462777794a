//! Errors carry their causes and hints: a refused REST request's hint names the credentials sent and
//! the setting they came from (401, 403), or what Patroni said (412, 503); an unknown cluster's hint
//! names the scopes in the DCS; `-o json` lists the error's causes.

use crate::harness::*;
use crate::machine::envelope;

/// The demo cluster with every member's REST API served by `api`, and `extra` configuration.
fn demo_with(api: &FakeApi, extra: &str) -> World {
    let w = World::empty_with(extra);
    let url = api.url();
    w.seed_demo("/service/demo/", [&url, &url, &url]);
    w
}

fn hint(stderr: &str) -> &str {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("Hint: "))
        .unwrap_or_else(|| panic!("no hint in:\n{stderr}"))
}

const AUTH: &str =
    "ctl:\n  authentication:\n    username: admin\n    password_command: [echo, s3cret]\n";

#[test]
fn a_401_names_the_credentials_sent_and_their_setting() {
    let api = fake_api(&[Reply::Status(401, "not authenticated")]);
    let w = demo_with(&api, AUTH);
    let out = w.run(&["reload", "demo", "node1", "--force"]);
    out.code(1);
    assert!(
        out.stdout
            .contains("Failed: reload for member node1, status code=401, (not authenticated)"),
        "patronictl's line stays: {}",
        out.stdout
    );
    let h = hint(&out.stderr);
    assert!(h.contains("(\"not authenticated\")"), "{h}");
    assert!(
        h.contains("sent: username 'admin' from ctl.authentication"),
        "{h}"
    );
    assert!(!out.stderr.contains("s3cret"), "never the password");
}

#[test]
fn a_403_without_credentials_says_none_were_sent() {
    let api = fake_api(&[Reply::Status(403, "Access is denied")]);
    let w = demo_with(&api, "");
    let out = w.run(&["reload", "demo", "node1", "--force"]);
    out.code(1);
    let h = hint(&out.stderr);
    assert!(
        h.starts_with("Patroni denied access (\"Access is denied\")"),
        "{h}"
    );
    assert!(h.contains("sent: no credentials"), "{h}");
    assert!(h.contains("restapi.allowlist"), "{h}");
}

#[test]
fn a_412_and_a_503_say_what_patroni_said_also_in_the_envelope() {
    let api = fake_api(&[Reply::Status(412, "PostgreSQL version condition failed")]);
    let w = demo_with(&api, "");
    let out = w.run(&["reload", "demo", "node1", "--force"]);
    out.code(1);
    let h = hint(&out.stderr);
    assert!(
        h.starts_with(
            "Patroni found a precondition unmet (\"PostgreSQL version condition failed\")"
        ),
        "{h}"
    );

    let api = fake_api(&[Reply::Status(503, r#"{"error":"busy"}"#)]);
    let w = demo_with(&api, "");
    let env = envelope(&w, "Reload", &["reload", "demo", "node1", "--force"], 1);
    let h = env["error"]["hint"].as_str().unwrap();
    assert!(
        h.starts_with(r#"Patroni could not do it now ("{"error":"busy"}")"#),
        "{h}"
    );
}

#[test]
fn pause_refused_with_503_has_the_hint() {
    let api = fake_api(&[Reply::Status(503, "no connection to the DCS")]);
    let w = demo_with(&api, "");
    let out = w.run(&["pause", "demo"]);
    out.code(1);
    assert!(
        hint(&out.stderr).contains("(\"no connection to the DCS\")"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_unreachable_member_error_lists_its_causes() {
    let w = World::demo_unreachable();
    let env = envelope(
        &w,
        "DemoteCluster",
        &["demote-cluster", "--host", "10.0.0.9", "--force"],
        3,
    );
    let causes: Vec<&str> = env["error"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(
        causes.first().copied(),
        Some("Connection refused"),
        "{causes:?}"
    );
    assert!(
        causes.iter().any(|c| c.contains("os error 111")),
        "the OS error below: {causes:?}"
    );
    let message = env["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("cannot connect: Connection refused"),
        "{message}"
    );
}

#[test]
fn an_unknown_cluster_names_the_clusters_there() {
    let w = World::demo_unreachable();
    let out = w.run(&["list", "nosuch"]);
    out.code(0);
    assert!(out.stdout.starts_with("+ Cluster: nosuch (uninitialized)"));
    assert_eq!(
        hint(&out.stderr),
        "there is no cluster nosuch in the DCS; the clusters in /service/: demo"
    );
    let out = w.run(&["restart", "nosuch", "--force"]);
    out.code(1);
    assert!(out.stderr.starts_with(
        "Error: nosuch cluster doesn't have any members\nHint: there is no cluster nosuch"
    ));
    let env = envelope(&w, "Restart", &["restart", "nosuch", "--force"], 1);
    assert!(env["error"]["hint"]
        .as_str()
        .is_some_and(|h| h.ends_with(": demo")));
    // A cluster that exists gets no such hint, and an unreachable DCS no second error.
    let out = w.run(&["list", "demo"]);
    assert!(!out.stderr.contains("Hint:"), "{}", out.stderr);
    w.dcs.set_unreachable(true);
    let out = w.run(&["list", "nosuch"]);
    out.code(3);
    assert!(
        !out.stderr.contains("there is no cluster"),
        "{}",
        out.stderr
    );
}
