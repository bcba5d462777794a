//! `demote-cluster` and `promote-cluster`: the PATCH to the leader, then waiting in the DCS for the
//! leader's new role.

use crate::harness::*;

fn patched(role: &'static str, config: &'static str) -> (FakeApi, World) {
    let api = fake_api_routes(&[("PATCH /config", Reply::Status(200, "{}"))]);
    let w = World::demo_served_by(&api);
    let dcs = w.dcs.clone();
    let url = api.url();
    // Patroni's part: the config changes and the leader publishes its new role after the PATCH.
    let patroni = api.clone();
    std::thread::spawn(move || {
        patroni.wait_for_request("PATCH /config");
        dcs.set(&World::key("config"), config);
        let now =
            member(1, &url, true).replace(r#""role":"primary""#, &format!(r#""role":"{role}""#));
        dcs.set(&World::key("members/node1"), &now);
    });
    (api, w)
}

#[test]
fn demote_patches_the_leader_and_waits_for_the_standby_leader() {
    let (api, w) = patched(
        "standby_leader",
        r#"{"ttl":30,"standby_cluster":{"host":"10.0.0.9"}}"#,
    );
    let out = w.run(&["demote-cluster", "--host", "10.0.0.9", "--force"]);
    out.code(0);
    assert_eq!(
        api.requests(),
        [r#"PATCH /config {"standby_cluster": {"host": "10.0.0.9"}}"#]
    );
    assert!(
        out.stdout_untimed()
            .contains("cluster is successfully demoted\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("| node1  | 127.0.0.1:5433 | Standby Leader | running "),
        "{}",
        out.stdout
    );
}

#[test]
fn promote_refuses_a_primary_cluster_and_demote_needs_a_source() {
    let api = fake_api_routes(&[("PATCH /config", Reply::Status(200, "{}"))]);
    let w = World::demo_served_by(&api);
    let out = w.run(&["promote-cluster", "--force"]);
    out.code(1);
    assert_eq!(
        out.stderr,
        "Error: Cluster is already in the required state\n"
    );
    let out = w.run(&["demote-cluster", "--force"]);
    out.code(1);
    assert_eq!(
        out.stderr,
        "Error: At least --host, --port or --restore-command should be specified\n"
    );
    assert!(api.requests().is_empty());
}

#[test]
fn declining_the_demotion_sends_nothing() {
    let api = fake_api_routes(&[("PATCH /config", Reply::Status(200, "{}"))]);
    let w = World::demo_served_by(&api);
    let out = w.run_stdin(&["demote-cluster", "--host", "h"], "n\n");
    out.code(1);
    assert!(out
        .stdout
        .contains("Are you sure you want to demote demo cluster? [y/N]: "));
    assert_eq!(out.stderr, "Error: Aborted cluster demotion\n");
    assert!(api.requests().is_empty());
}
