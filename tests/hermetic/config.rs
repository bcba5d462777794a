//! `show-config`, `edit-config` (compare-and-swap on the config key) and `pause`/`resume`.

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
fn invalid_values_are_refused_with_or_without_force() {
    let w = World::demo_unreachable();
    let out = w.run_stdin(&["edit-config", "-s", "loop_wait=0"], "y\n");
    out.code(1);
    assert!(out.stderr.contains("loop_wait"), "{}", out.stderr);
    assert!(w.dcs.writes().is_empty());
    // --force skips the prompt, not the checks.
    let out = w.run(&["edit-config", "-s", "loop_wait=0", "--force"]);
    out.code(1);
    assert_eq!(
        out.stderr,
        "Error: loop_wait must be a positive integer, not 0; nothing written (use --skip-checks to write it anyway)\n"
    );
    assert!(w.dcs.writes().is_empty());
    let out = w.run(&[
        "edit-config",
        "-s",
        "loop_wait=0",
        "--force",
        "--skip-checks",
    ]);
    out.code(0);
    assert_eq!(w.dcs.writes().len(), 1);
    let written: serde_json::Value = serde_json::from_str(&w.get("config").unwrap()).unwrap();
    assert_eq!(written["loop_wait"], 0);
}

/// The demo cluster whose members report PostgreSQL `server_version` on `GET /patroni`.
fn demo_running(server_version: &'static str) -> (FakeApi, World) {
    let api = fake_api_routes(&[("GET /patroni", Reply::Status(200, server_version))]);
    let w = World::demo_served_by(&api);
    (api, w)
}

#[test]
fn parameters_are_checked_for_the_members_major() {
    // reserved_connections exists from PostgreSQL 16 on.
    let args = ["edit-config", "-p", "reserved_connections=3", "--force"];
    let (api, w) = demo_running(r#"{"server_version": 150018}"#);
    let out = w.run(&args);
    out.code(1);
    assert_eq!(
        out.stderr,
        "Not a PostgreSQL 15 parameter (extension or typo?): reserved_connections\n\
         Error: reserved_connections is not a PostgreSQL 15 parameter (Patroni would drop it); nothing written (use --skip-checks to write it anyway)\n"
    );
    assert!(w.dcs.writes().is_empty());
    assert!(api.requests().iter().all(|r| r.starts_with("GET /patroni")));

    let (_api, w) = demo_running(r#"{"server_version": 160004}"#);
    let out = w.run(&args);
    out.code(0);
    // The note goes to stderr; stdout is patronictl's diff and last line.
    assert_eq!(out.stderr, "Needs a restart: reserved_connections\n");
    assert!(
        out.stdout.ends_with(
            "+    reserved_connections: 3\n retry_timeout: 10\n ttl: 30\nConfiguration changed\n"
        ),
        "{}",
        out.stdout
    );
    assert_eq!(w.dcs.writes().len(), 1);

    // Type, unit and range.
    let (_api, w) = demo_running(r#"{"server_version": 170002}"#);
    let out = w.run(&[
        "edit-config",
        "-p",
        "work_mem=64kB",
        "-p",
        "shared_buffers=8",
        "-p",
        "my.ext=x",
        "--force",
    ]);
    out.code(1);
    assert!(
        out.stderr.ends_with("Error: shared_buffers = 8 is out of range for PostgreSQL 17 (16 to 1073741823 8kB): Patroni would use 16 8kB; nothing written (use --skip-checks to write it anyway)\n"),
        "{}",
        out.stderr
    );
    w.run(&[
        "edit-config",
        "-p",
        "work_mem=64kB",
        "-p",
        "shared_buffers=128MB",
        "-p",
        "my.ext=x",
        "--force",
    ])
    .code(0);
}

#[test]
fn unknown_major_falls_back_with_a_warning() {
    let w = World::demo_unreachable();
    let out = w.run(&["edit-config", "-p", "transaction_timeout=5s", "--force"]);
    out.code(0);
    assert!(
        out.stderr.contains(
            " - WARNING - no member reported its PostgreSQL version: parameters checked against PostgreSQL 17 (unknown names not refused)\n"
        ),
        "{}",
        out.stderr
    );
    // The cluster may run another major: a name 17 lacks (14 has it) is not refused, a value still is.
    w.run(&[
        "edit-config",
        "-p",
        "stats_temp_directory=/run/pg",
        "--force",
    ])
    .code(0);
    w.run(&["edit-config", "-p", "work_mem=lots", "--force"])
        .code(1);
    // No parameter changed: no member is asked, no warning.
    let out = w.run(&["edit-config", "-s", "ttl=40", "--force"]);
    out.code(0);
    assert_eq!(out.stderr, "");
}

#[test]
fn machine_output_of_edit_config() {
    let (_api, w) = demo_running(r#"{"server_version": 150018}"#);
    // Without --force it would prompt: exit 2, nothing written, the changes as data.
    let out = w.run(&["-o", "json", "edit-config", "-s", "ttl=40"]);
    out.code(2);
    let env: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(env["kind"], "ConfigEdit");
    assert_eq!(env["error"]["category"], "usage");
    assert_eq!(env["data"]["written"], false);
    assert!(w.dcs.writes().is_empty());
    let out = w.run(&[
        "edit-config",
        "-o",
        "json",
        "--force",
        "-s",
        "ttl=40",
        "-p",
        "max_connections=200",
        "-p",
        "work_mem=8MB",
    ]);
    out.code(0);
    let env: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        env["data"],
        serde_json::json!({
            "cluster": "demo",
            "changes": [
                {"key": "ttl", "old": 30, "new": 40},
                {"key": "postgresql.parameters.max_connections", "old": 100, "new": 200},
                {"key": "postgresql.parameters.work_mem", "old": null, "new": "8MB"},
            ],
            "postgresMajor": 15,
            "needsRestart": ["max_connections"],
            "appliedOnReload": ["work_mem"],
            "written": true,
        })
    );
    assert!(
        out.stderr.contains("Configuration changed"),
        "human text on stderr"
    );
    // Not changed: written false, no changes.
    let out = w.run(&["edit-config", "-o", "json", "-s", "ttl=40"]);
    out.code(0);
    let env: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(env["data"]["changes"], serde_json::json!([]));
    assert_eq!(env["data"]["written"], false);
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
fn a_refusal_after_a_member_that_timed_out_is_an_unknown_outcome() {
    // After a DCS restart the leader's Patroni may apply the PATCH too late to answer; the next
    // member then loses the compare-and-swap against that very change.
    let hung = fake_api(&[Reply::Hang]);
    let api = fake_api_routes(&[("PATCH /config", Reply::Status(409, "conflict"))]);
    let w = World::demo([&hung.url(), &api.url(), &api.url()]);
    let out = w.run(&["--request-timeout", "0.5", "pause"]);
    out.code(5);
    assert_eq!(
        out.stdout,
        "Failed: pause cluster management status code=409, (conflict)\n"
    );
    assert_eq!(
        out.stderr.lines().last(),
        Some("Hint: node1 did not answer in time and may have applied the change; `patctl list` shows whether the cluster is paused")
    );
}

#[test]
fn pause_wait_returns_when_every_member_shows_it() {
    let api = fake_api_routes(&[("PATCH /config", Reply::Status(200, "{}"))]);
    let w = World::demo_served_by(&api);
    let dcs = w.dcs.clone();
    let url = api.url();
    // The members' part: each publishes `"pause": true` once asked.
    let patroni = api.clone();
    let members = std::thread::spawn(move || {
        patroni.wait_for_request("PATCH /config");
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
