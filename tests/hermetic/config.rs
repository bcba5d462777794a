//! `show-config`, `edit-config` (compare-and-swap on the config key) and `pause`/`resume`.

use std::time::Duration;

use crate::harness::*;

#[test]
fn show_config_prints_sorted_block_yaml() {
    let out = World::demo_unreachable().run(&["show-config"]);
    out.code(0);
    assert_eq!(
        out.stdout,
        "loop_wait: 10\nmaximum_lag_on_failover: 1048576\npostgresql:\n  parameters:\n    max_connections: 100\nretry_timeout: 10\nttl: 30\n\n"
    );
}

#[test]
fn edit_config_set_writes_once_with_the_version_read() {
    let w = World::demo_unreachable();
    let out = w.run(&["edit-config", "-s", "loop_wait=5", "--force"]);
    out.code(0);
    assert!(
        out.stdout.contains("-loop_wait: 10\n+loop_wait: 5\n"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.ends_with("Configuration changed\n"));
    let written: serde_json::Value = serde_json::from_str(&w.get("config").unwrap()).unwrap();
    assert_eq!(written["loop_wait"], 5);
    assert_eq!(written["ttl"], 30, "the rest is kept");
    assert_eq!(w.dcs.writes().len(), 1);
}

#[test]
fn edit_config_pg_parameter() {
    let w = World::demo_unreachable();
    w.run(&["edit-config", "-p", "work_mem=8MB", "--force"])
        .code(0);
    let written: serde_json::Value = serde_json::from_str(&w.get("config").unwrap()).unwrap();
    assert_eq!(written["postgresql"]["parameters"]["work_mem"], "8MB");
    assert_eq!(written["postgresql"]["parameters"]["max_connections"], 100);
}

#[test]
fn a_concurrent_change_wins_and_nothing_is_lost() {
    let w = World::demo_unreachable();
    let theirs = r#"{"ttl":30,"loop_wait":10,"retry_timeout":6}"#;
    w.dcs.race_next_write(&World::key("config"), Some(theirs));
    let out = w.run(&["edit-config", "-s", "loop_wait=5", "--force"]);
    out.code(4);
    assert_eq!(
        out.stderr,
        "Error: Config modification aborted due to concurrent changes\n"
    );
    assert_eq!(w.get("config").as_deref(), Some(theirs));
    assert!(w.dcs.writes().is_empty());
}

#[test]
fn a_deleted_config_key_also_loses() {
    let w = World::demo_unreachable();
    w.dcs.race_next_write(&World::key("config"), None);
    w.run(&["edit-config", "-s", "ttl=40", "--force"]).code(4);
    assert_eq!(w.get("config"), None, "not re-created");
}

#[test]
fn declining_the_confirmation_writes_nothing() {
    let w = World::demo_unreachable();
    let out = w.run_stdin(&["edit-config", "-s", "ttl=40"], "n\n");
    out.code(0);
    assert!(out.stdout.contains("Apply these changes? [y/N]: "));
    assert!(w.dcs.writes().is_empty());
    let out = w.run_stdin(&["edit-config", "-s", "ttl=40"], "y\n");
    out.code(0);
    assert_eq!(w.dcs.writes().len(), 1);
}

#[test]
fn no_change_and_no_config_key() {
    let w = World::demo_unreachable();
    let out = w.run(&["edit-config", "-s", "ttl=30", "--force"]);
    out.code(0);
    assert_eq!(out.stdout, "Not changed\n");
    assert!(w.dcs.writes().is_empty());
    w.dcs.remove(&World::key("config"));
    let out = w.run(&["edit-config", "-s", "ttl=30", "--force"]);
    out.code(1);
    assert_eq!(
        out.stderr,
        "Error: The config key does not exist in the cluster demo\n"
    );
}

#[test]
fn invalid_values_are_refused_unless_forced() {
    let w = World::demo_unreachable();
    let out = w.run_stdin(&["edit-config", "-s", "loop_wait=0"], "y\n");
    out.code(1);
    assert!(out.stderr.contains("loop_wait"), "{}", out.stderr);
    assert!(w.dcs.writes().is_empty());
}

#[test]
fn pause_patches_the_leader() {
    let api = fake_api_routes(&[("PATCH /config", Reply::Status(200, "{}"))]);
    let w = World::demo_served_by(&api);
    let out = w.run(&["pause"]);
    out.code(0);
    assert_eq!(out.stdout, "Success: cluster management is paused\n");
    assert_eq!(api.requests(), [r#"PATCH /config {"pause": true}"#]);
    assert!(w.dcs.writes().is_empty(), "pause goes through the REST API");
}

#[test]
fn resume_removes_the_pause_and_refuses_when_not_paused() {
    let api = fake_api_routes(&[("PATCH /config", Reply::Status(200, "{}"))]);
    let w = World::demo_served_by(&api);
    let out = w.run(&["resume"]);
    out.code(1);
    assert_eq!(out.stderr, "Error: Cluster is not paused\n");
    w.dcs.set(&World::key("config"), r#"{"pause":true}"#);
    let out = w.run(&["resume"]);
    out.code(0);
    assert_eq!(out.stdout, "Success: cluster management is resumed\n");
    assert_eq!(api.requests(), [r#"PATCH /config {"pause": null}"#]);
    let out = w.run(&["pause"]);
    out.code(1);
    assert_eq!(out.stderr, "Error: Cluster is already paused\n");
}

#[test]
fn pause_falls_through_to_the_next_member_and_reports_a_rejection() {
    let api = fake_api_routes(&[("PATCH /config", Reply::Status(409, "conflict"))]);
    let dead = dead_api();
    let w = World::demo([&dead, &api.url(), &api.url()]);
    let out = w.run(&["pause"]);
    out.code(1);
    assert!(
        out.stderr.contains("Member node1 is not accessible"),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stdout,
        "Failed: pause cluster management status code=409, (conflict)\n"
    );
    let w = World::demo([&dead, &dead, &dead]);
    let out = w.run(&["pause"]);
    out.code(3);
    assert_eq!(
        out.stderr.lines().last(),
        Some("Error: Can not find accessible cluster member")
    );
}

#[test]
fn pause_wait_returns_when_every_member_shows_it() {
    let api = fake_api_routes(&[("PATCH /config", Reply::Status(200, "{}"))]);
    let w = World::demo_served_by(&api);
    let dcs = w.dcs.clone();
    let url = api.url();
    // The members' part: each publishes `"pause": true` once asked.
    let members = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        for n in 1..=3 {
            let paused =
                member(n, &url, n == 1).replace(r#""timeline":1"#, r#""timeline":1,"pause":true"#);
            dcs.set(&World::key(&format!("members/node{n}")), &paused);
        }
    });
    let out = w.run(&["pause", "--wait"]);
    members.join().unwrap();
    out.code(0);
    assert_eq!(
        out.stdout,
        "'pause' request sent, waiting until it is recognized by all nodes\nSuccess: cluster management is paused\n"
    );
}
