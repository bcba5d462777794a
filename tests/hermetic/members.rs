//! `flush … switchover` (the REST API, then the DCS with compare-and-swap), `reload` and `restart`
//! against fake member APIs.

use crate::harness::*;

const SCHEDULED: &str =
    r#"{"leader":"node1","member":"node2","scheduled_at":"2030-01-01T12:00:00+00:00"}"#;

fn scheduled(apis: [&str; 3]) -> World {
    let w = World::demo(apis);
    w.dcs.set(&World::key("failover"), SCHEDULED);
    w
}

#[test]
fn flush_asks_the_leader_first() {
    let api = fake_api_routes(&[(
        "DELETE /switchover",
        Reply::Status(200, "scheduled switchover deleted"),
    )]);
    let w = scheduled([&api.url(), &api.url(), &api.url()]);
    let out = w.run(&["flush", "demo", "switchover", "--force"]);
    out.code(0);
    assert_eq!(out.stdout, "Success: scheduled switchover deleted\n");
    assert_eq!(api.requests(), ["DELETE /switchover "]);
    assert!(w.dcs.writes().is_empty());
}

#[test]
fn flush_without_a_schedule_does_nothing() {
    let w = World::demo_unreachable();
    let out = w.run(&["flush", "demo", "switchover", "--force"]);
    out.code(0);
    assert_eq!(out.stdout, "No pending scheduled switchover\n");
    assert!(w.dcs.writes().is_empty());
}

#[test]
fn flush_falls_back_to_the_dcs_with_compare_and_swap() {
    let dead = dead_api();
    let w = scheduled([&dead, &dead, &dead]);
    let out = w.run(&["flush", "demo", "switchover", "--force"]);
    out.code(0);
    assert!(out.stderr.contains("Member node1 is not accessible"));
    assert!(out.stderr.contains("WARNING - Failing over to DCS"));
    assert!(out
        .stdout_untimed()
        .contains("Could not find any accessible member of cluster demo\n"));
    assert_eq!(w.get("failover").as_deref(), Some("{}"));
}

#[test]
fn flush_through_the_dcs_loses_to_a_concurrent_change() {
    let dead = dead_api();
    let w = scheduled([&dead, &dead, &dead]);
    let theirs =
        r#"{"leader":"node1","member":"node3","scheduled_at":"2030-01-01T13:00:00+00:00"}"#;
    w.dcs.race_next_write(&World::key("failover"), Some(theirs));
    let out = w.run(&["flush", "demo", "switchover", "--force"]);
    out.code(4);
    assert_eq!(
        out.stderr.lines().last(),
        Some("Error: the failover key of demo changed concurrently; nothing written")
    );
    assert_eq!(w.get("failover").as_deref(), Some(theirs));
}

#[test]
fn flush_on_citus_without_a_group_clears_the_coordinators_key() {
    let w = World::empty_with("citus:\n  group: 0\n  database: citus\n");
    let dead = dead_api();
    w.seed_demo("/service/demo/0/", [&dead, &dead, &dead]);
    w.seed_demo("/service/demo/1/", [&dead, &dead, &dead]);
    w.dcs.set("/service/demo/0/failover", SCHEDULED);
    w.dcs.set("/service/demo/1/failover", SCHEDULED);
    w.run(&["flush", "demo", "switchover", "--force"]).code(0);
    assert_eq!(w.dcs.get("/service/demo/0/failover").as_deref(), Some("{}"));
    assert_eq!(
        w.dcs.get("/service/demo/1/failover").as_deref(),
        Some(SCHEDULED)
    );
}

#[test]
fn reload_asks_the_named_member_only() {
    let one = fake_api_routes(&[("POST /reload", Reply::Status(202, ""))]);
    let two = fake_api_routes(&[("POST /reload", Reply::Status(202, ""))]);
    let dead = dead_api();
    let w = World::demo([&one.url(), &two.url(), &dead]);
    let out = w.run_stdin(&["reload", "demo", "node2"], "y\n");
    out.code(0);
    assert!(
        out.stdout
            .contains("Are you sure you want to reload members node2? [y/N]: "),
        "{}",
        out.stdout
    );
    assert!(out.stdout.ends_with(
        "Reload request received for member node2 and will be processed within 10 seconds\n"
    ));
    assert!(one.requests().is_empty());
    assert_eq!(two.requests(), ["POST /reload "]);
}

#[test]
fn a_rejected_or_unreachable_member_makes_reload_fail() {
    let ok = fake_api_routes(&[("POST /reload", Reply::Status(202, ""))]);
    let bad = fake_api_routes(&[("POST /reload", Reply::Status(500, "oops"))]);
    let w = World::demo([&ok.url(), &bad.url(), &dead_api()]);
    let out = w.run(&["reload", "demo", "--force"]);
    out.code(1);
    assert!(
        out.stdout
            .contains("Failed: reload for member node2, status code=500, (oops)\n"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(
        out.stdout
            .contains("Reload request received for member node1"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(
        "Failed: reload for member node3, unreachable (member node3 at http://127.0.0.1:"
    ));
}

#[test]
fn restart_of_the_replicas_only() {
    let leader = fake_api_routes(&[("POST /restart", Reply::Status(200, "restarted"))]);
    let replicas = fake_api_routes(&[("POST /restart", Reply::Status(200, "restarted"))]);
    let w = World::demo([&leader.url(), &replicas.url(), &replicas.url()]);
    let out = w.run(&["restart", "demo", "--role", "replica", "--force"]);
    out.code(0);
    assert!(leader.requests().is_empty());
    let posts = replicas.requests();
    let posts: Vec<&String> = posts.iter().filter(|r| r.starts_with("POST")).collect();
    assert_eq!(posts, ["POST /restart {}", "POST /restart {}"]);
    assert!(
        out.stdout.contains("Success: restart on member node2\n"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("Success: restart on member node3\n"));
}

#[test]
fn restart_prompts_and_declining_sends_nothing() {
    let api = fake_api_routes(&[("POST /restart", Reply::Status(200, "restarted"))]);
    let w = World::demo_served_by(&api);
    let out = w.run_stdin(&["restart", "demo", "node2"], "\nn\n");
    out.code(1);
    assert!(out
        .stdout
        .contains("When should the restart take place (e.g. "));
    assert!(out
        .stdout
        .contains("Are you sure you want to restart members node2? [y/N]: "));
    assert_eq!(out.stderr, "Error: Aborted restart\n");
    assert!(api.requests().iter().all(|r| !r.starts_with("POST")));
}

#[test]
fn flush_restart_asks_each_member() {
    let api = fake_api_routes(&[(
        "DELETE /restart",
        Reply::Status(200, "scheduled restart deleted"),
    )]);
    let w = World::demo_served_by(&api);
    let pending = member(2, &api.url(), false).replace(
        r#""timeline":1}"#,
        r#""timeline":1,"scheduled_restart":{"schedule":"2030-01-01T12:00:00+00:00"}}"#,
    );
    w.dcs.set(&World::key("members/node2"), &pending);
    let out = w.run(&["flush", "demo", "restart", "--force"]);
    out.code(0);
    assert!(out.stdout.ends_with(
        "No scheduled restart for member node1\nSuccess: flush scheduled restart for member node2\nNo scheduled restart for member node3\n"
    ));
    assert_eq!(api.requests(), ["DELETE /restart "]);
    assert!(w.dcs.writes().is_empty());
}

#[test]
fn version_of_each_member() {
    let api = fake_api_routes(&[(
        "GET /patroni",
        Reply::Status(
            200,
            r#"{"state":"running","patroni":{"version":"4.1.5","scope":"demo"}}"#,
        ),
    )]);
    let dead = dead_api();
    let w = World::demo([&api.url(), &api.url(), &dead]);
    let out = w.run(&["version", "demo"]);
    assert!(out.stdout.starts_with("patronictl version 4.1.5\n\nnode1: Patroni 4.1.5\nnode2: Patroni 4.1.5\nnode3: failed to get version: "), "{}", out.stdout);
}

#[test]
fn restart_wait_names_a_member_whose_postmaster_did_not_restart() {
    // Patroni says 200, but the postmaster start time stays the one from before: not back (exit 8).
    let api = fake_api_routes(&[
        (
            "POST /restart",
            Reply::Status(200, "restarted successfully"),
        ),
        (
            "GET /patroni",
            Reply::Status(
                200,
                r#"{"state":"running","postmaster_start_time":"2026-12-01 10:00:00.000000+00:00"}"#,
            ),
        ),
    ]);
    let w = World::demo_served_by(&api);
    let m3 = member(3, &api.url(), false).replace("streaming\",\"role", "running\",\"role");
    w.dcs.set(&World::key("members/node3"), &m3);
    let out = w.run(&[
        "restart",
        "demo",
        "node3",
        "--force",
        "--wait",
        "--wait-timeout",
        "1",
        "-o",
        "json",
    ]);
    out.code(8);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["kind"], "Restart");
    assert_eq!(doc["error"]["exitCode"], 8);
    assert!(doc["error"]["message"].as_str().unwrap().contains("node3"));
    let data = &doc["data"];
    assert_eq!(data["targets"], serde_json::json!(["node3"]));
    assert_eq!(data["members"][0]["member"], "node3");
    assert_eq!(data["members"][0]["outcome"], "succeeded");
    assert_eq!(data["members"][0]["httpStatus"], 200);
    assert_eq!(data["members"][0]["response"], "restarted successfully");
    let stage = &data["wait"]["stages"][0];
    assert_eq!(stage["reached"], false);
    assert_eq!(stage["details"]["members"][0]["back"], false);
    crate::schema::assert_valid("Restart", &doc);
}
