//! `switchover` and `failover`: prompts, candidate selection, the REST request to the leader, its
//! answers, and the DCS fallback when no member can be reached.

use crate::harness::*;

const SWITCHED: Reply = Reply::Status(200, "Successfully switched over to \"node2\"");

#[test]
fn prompts_choose_the_candidate_and_the_leader_is_asked() {
    let api = fake_api_routes(&[("POST /switchover", SWITCHED)]);
    let w = World::demo_served_by(&api);
    let out = w.run_stdin(&["switchover"], "\nnode2\n\ny\n");
    out.code(0);
    assert!(out.stdout.starts_with("Current cluster topology\n"));
    let prompts =
        "Primary [node1]: Candidate ['node2', 'node3'] []: When should the switchover take place";
    assert!(out.stdout.contains(prompts), "{}", out.stdout);
    assert!(out.stdout.contains(
        "Are you sure you want to switchover cluster demo, demoting current leader node1? [y/N]: "
    ));
    // Answers are not echoed on a pipe, so the result line follows the last prompt.
    assert!(out.stdout.contains("[y/N]: 20"), "{}", out.stdout);
    assert!(out
        .stdout
        .contains(" Successfully switched over to \"node2\"\n"));
    assert_eq!(
        api.requests(),
        [r#"POST /switchover {"candidate": "node2", "leader": "node1"}"#]
    );
    assert_eq!(
        w.get("failover"),
        None,
        "the REST API did it; no failover key"
    );
}

#[test]
fn declining_sends_nothing() {
    let api = fake_api_routes(&[("POST /switchover", SWITCHED)]);
    let w = World::demo_served_by(&api);
    let out = w.run_stdin(&["switchover", "--candidate", "node2"], "\n\nn\n");
    out.code(1);
    assert_eq!(out.stderr, "Error: Aborting switchover\n");
    assert!(api.requests().is_empty());
    assert!(w.dcs.writes().is_empty());
}

#[test]
fn end_of_input_at_a_prompt_aborts() {
    let api = fake_api_routes(&[("POST /switchover", SWITCHED)]);
    let out = World::demo_served_by(&api).run_stdin(&["switchover"], "\n");
    out.code(1);
    assert!(api.requests().is_empty());
}

#[test]
fn candidates_leave_out_the_leader_and_nofailover_members() {
    let api = fake_api_routes(&[("POST /switchover", SWITCHED)]);
    let w = World::demo_served_by(&api);
    let tagged = member(3, &api.url(), false).replace(
        r#""timeline":1}"#,
        r#""timeline":1,"tags":{"nofailover":true}}"#,
    );
    w.dcs.set(&World::key("members/node3"), &tagged);
    let out = w.run_stdin(&["switchover"], "\n\n\nn\n");
    assert!(
        out.stdout.contains("Candidate ['node2'] []: "),
        "{}",
        out.stdout
    );
    let out = w.run(&["switchover", "--candidate", "node3", "--force"]);
    out.code(1);
    assert_eq!(
        out.stderr,
        "Error: Member node3 does not exist in cluster demo or is tagged as nofailover\n"
    );
    assert!(api.requests().is_empty());
}

#[test]
fn wrong_leader_and_unknown_or_leading_candidates_are_refused() {
    let api = fake_api_routes(&[("POST /switchover", SWITCHED)]);
    let w = World::demo_served_by(&api);
    let cases: [(&[&str], &str); 3] = [
        (
            &["--leader", "node2", "--candidate", "node3"],
            "Error: Member node2 is not the leader of cluster demo\n",
        ),
        (
            &["--candidate", "node9"],
            "Error: Member node9 does not exist in cluster demo or is tagged as nofailover\n",
        ),
        (
            &["--candidate", "node1"],
            "Error: Member node1 is already the leader of cluster demo\n",
        ),
    ];
    for (args, err) in cases {
        let mut full = vec!["switchover", "--force"];
        full.extend_from_slice(args);
        let out = w.run(&full);
        out.code(1);
        assert_eq!(out.stderr, err, "{args:?}");
    }
    assert!(api.requests().is_empty());
}

#[test]
fn failover_needs_a_candidate() {
    let out = World::demo_unreachable().run(&["failover", "--force"]);
    out.code(1);
    assert_eq!(
        out.stderr,
        "Error: Failover could be performed only to a specific candidate\n"
    );
}

#[test]
fn a_rejection_prints_patronictls_line_and_exits_1() {
    let api = fake_api_routes(&[(
        "POST /switchover",
        Reply::Status(412, "candidate name does not match with sync_standby"),
    )]);
    let w = World::demo_served_by(&api);
    let out = w.run(&["switchover", "--candidate", "node2", "--force"]);
    out.code(1);
    assert!(out.stdout.ends_with(
        "Switchover failed, details: 412, candidate name does not match with sync_standby\n"
    ));
    assert_eq!(w.get("failover"), None);
}

#[test]
fn failover_is_posted_to_failover() {
    let api = fake_api_routes(&[(
        "POST /failover",
        Reply::Status(200, "Successfully failed over to \"node3\""),
    )]);
    let w = World::demo_served_by(&api);
    w.run(&["failover", "--candidate", "node3", "--force"])
        .code(0);
    assert_eq!(api.requests(), [r#"POST /failover {"candidate": "node3"}"#]);
}

#[test]
fn without_rest_the_failover_key_is_written() {
    let w = World::demo_unreachable();
    let out = w.run(&["failover", "--candidate", "node3", "--force"]);
    out.code(5);
    assert!(out.stderr.contains("WARNING - Failing over to DCS"));
    assert!(out
        .stdout_untimed()
        .contains("Could not failover using Patroni api, falling back to DCS\n"));
    assert_eq!(w.get("failover").as_deref(), Some(r#"{"member":"node3"}"#));
    assert!(out.stderr.ends_with(
        "Error: the failover key is set ({\"member\":\"node3\"}) but the failover is not confirmed yet; check `patctl list` or use --wait\n"
    ));
}

/// Patroni's part of a failover to node3, played by another thread once the failover key appears:
/// node3 takes the leader key on timeline 2 and node2 streams from it; node1 rejoins on timeline 2
/// when `rejoins`, else it stays stopped.
fn patroni_fails_over_to_node3(w: &World, rejoins: bool) -> std::thread::JoinHandle<()> {
    let dcs = w.dcs.clone();
    std::thread::spawn(move || {
        soon("the failover key", || {
            dcs.get(&World::key("failover")).is_some()
        });
        let tl2 = |m: String| m.replace(r#""timeline":1"#, r#""timeline":2"#);
        let node1 = if rejoins {
            tl2(member(1, "http://x", false))
        } else {
            r#"{"state":"stopped","role":"demoted","api_url":"http://x/patroni"}"#.to_string()
        };
        dcs.set(&World::key("members/node1"), &node1);
        if rejoins {
            dcs.set(
                &World::key("members/node2"),
                &tl2(member(2, "http://x", false)),
            );
        }
        dcs.set(
            &World::key("members/node3"),
            &tl2(member(3, "http://x", true)),
        );
        dcs.set(&World::key("leader"), "node3");
        // As Patroni: the new leader takes the leader key, then clears the failover key (removed
        // first, a follower reading in between sees a failover given up by node1).
        dcs.remove(&World::key("failover"));
    })
}

#[test]
fn wait_follows_the_dcs_until_the_candidate_leads() {
    let w = World::demo_unreachable();
    let patroni = patroni_fails_over_to_node3(&w, true);
    let out = w.run(&[
        "failover",
        "--candidate",
        "node3",
        "--force",
        "--wait",
        "--timeout",
        "10",
    ]);
    patroni.join().unwrap();
    out.code(0);
    assert!(
        out.stdout.contains("| node3  | 127.0.0.1:5435 | Leader "),
        "{}",
        out.stdout
    );
    assert_eq!(w.get("leader").as_deref(), Some("node3"));
}

#[test]
fn an_unreachable_dcs_is_exit_3() {
    let w = World::demo_unreachable();
    w.dcs.set_unreachable(true);
    let out = w.run(&["switchover", "--candidate", "node2", "--force"]);
    out.code(3);
    assert!(out.stderr.starts_with("Error: DCS unreachable"));
}

#[test]
fn a_scheduled_switchover_goes_to_the_leader_or_into_the_dcs() {
    let api = fake_api_routes(&[(
        "POST /switchover",
        Reply::Status(202, "Switchover scheduled"),
    )]);
    let args = [
        "switchover",
        "--candidate",
        "node2",
        "--scheduled",
        "2030-01-01T12:00+00:00",
        "--force",
    ];
    let w = World::demo_served_by(&api);
    let out = w.run(&args);
    out.code(0);
    assert!(out.stdout.contains(" Switchover scheduled\n"));
    assert_eq!(
        api.requests(),
        [
            r#"POST /switchover {"candidate": "node2", "leader": "node1", "scheduled_at": "2030-01-01T12:00:00+00:00"}"#
        ]
    );
    let w = World::demo_unreachable();
    let out = w.run(&args);
    out.code(0);
    let key = r#"{"leader":"node1","member":"node2","scheduled_at":"2030-01-01T12:00:00+00:00"}"#;
    assert!(out
        .stderr
        .ends_with(&format!("Scheduled through the DCS: {key}\n")));
    assert_eq!(w.get("failover").as_deref(), Some(key));
}

#[test]
fn citus_asks_for_the_group_and_writes_into_it() {
    let dead = dead_api();
    let w = World::empty_with("citus:\n  group: 0\n  database: citus\n");
    w.seed_demo("/service/demo/0/", [&dead, &dead, &dead]);
    w.seed_demo("/service/demo/1/", [&dead, &dead, &dead]);
    let out = w.run(&["switchover", "--candidate", "node2", "--force"]);
    out.code(1);
    assert_eq!(
        out.stderr,
        "Error: For Citus clusters the --group must me specified\n"
    );
    let out = w.run_stdin(&["switchover"], "x\n1\n\nnode2\n\ny\n");
    assert!(out.stdout.contains(
        "Citus group: Error: 'x' is not a valid integer.\nCitus group: Primary [node1]: "
    ));
    assert_eq!(
        w.dcs.get("/service/demo/1/failover").as_deref(),
        Some(r#"{"leader":"node1","member":"node2"}"#)
    );
    assert_eq!(w.dcs.get("/service/demo/0/failover"), None);
}

#[test]
fn dry_run_checks_every_member_and_writes_nothing() {
    let leader = fake_api_routes(&[(
        "GET /patroni",
        Reply::Status(
            200,
            r#"{"state":"running","role":"primary","timeline":1,"xlog":{"location":67108960}}"#,
        ),
    )]);
    let replica = fake_api_routes(&[(
        "GET /patroni",
        Reply::Status(
            200,
            r#"{"state":"running","role":"replica","timeline":1,"replication_state":"streaming","xlog":{"received_location":67108960,"replayed_location":67108960}}"#,
        ),
    )]);
    let dead = dead_api();
    let w = World::demo([&leader.url(), &replica.url(), &dead]);
    let out = w.run(&["switchover", "--candidate", "node2", "--dry-run"]);
    let node = |name: &str| {
        out.stdout
            .lines()
            .find(|l| l.starts_with(&format!("| {name} ")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        node("node1").contains("| -      | current leader"),
        "{}",
        out.stdout
    );
    assert!(node("node2").contains("| PASS "), "{}", out.stdout);
    assert!(node("node3").contains("| FAIL "), "{}", out.stdout);
    out.code(0);
    assert!(w.dcs.writes().is_empty());
    assert!(leader.requests().iter().all(|r| r.starts_with("GET")));
}

/// Check a machine-output document against `schemas/<kind>.schema.json`.
fn check_schema(kind: &str, doc: &serde_json::Value) {
    crate::schema::assert_valid(kind, doc);
}

fn json_of(out: &Out) -> serde_json::Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

#[test]
fn dry_run_json_is_a_switchover_plan_naming_whom_patroni_would_promote() {
    let replica = fake_api_routes(&[(
        "GET /patroni",
        Reply::Status(
            200,
            r#"{"state":"running","role":"replica","timeline":1,"replication_state":"streaming","patroni":{"version":"4.0.0"},"xlog":{"received_location":67108960,"replayed_location":67108960}}"#,
        ),
    )]);
    let w = World::demo([&replica.url(), &replica.url(), &dead_api()]);
    w.dcs.set(
        &World::key("members/node2"),
        &member(2, &replica.url(), false).replace("}", r#","pending_restart":true}"#),
    );
    let out = w.run(&["switchover", "--dry-run", "-o", "json"]);
    out.code(0);
    let doc = json_of(&out);
    assert_eq!(doc["kind"], "SwitchoverPlan");
    let data = &doc["data"];
    assert_eq!(data["canProceed"], true);
    assert_eq!(data["predicted"]["name"], "node2");
    assert_eq!(data["members"][2]["result"], "FAIL");
    let warnings = data["warnings"].to_string();
    assert!(warnings.contains("node2: restart pending"), "{warnings}");
    assert!(warnings.contains("mixed Patroni versions"), "{warnings}");
    check_schema("SwitchoverPlan", &doc);
    // The text form says the same on stdout.
    let text = w.run(&["switchover", "--dry-run"]);
    assert!(
        text.stdout
            .contains("\nPatroni would promote node2: the only member that passes the checks\n"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("\nWARN: node2: restart pending"),
        "{}",
        text.stdout
    );
}

#[test]
fn a_rejection_is_followed_by_the_preflight_reasons() {
    let api = fake_api_routes(&[
        (
            "POST /switchover",
            Reply::Status(
                412,
                "switchover is not possible: no good candidates have been found",
            ),
        ),
        (
            "GET /patroni",
            Reply::Status(
                200,
                r#"{"state":"running","role":"replica","timeline":1,"replication_state":"streaming","tags":{"nofailover":true},"xlog":{"received_location":67108960,"replayed_location":67108960}}"#,
            ),
        ),
    ]);
    let w = World::demo_served_by(&api);
    let out = w.run(&["switchover", "--candidate", "node2", "--force"]);
    out.code(1);
    assert!(out.stdout.ends_with(
        "Switchover failed, details: 412, switchover is not possible: no good candidates have been found\n"
    ));
    assert!(
        out.stderr
            .contains("Pre-flight reasons:\n  node2: tagged nofailover (REST API)"),
        "{}",
        out.stderr
    );
    let out = w.run(&[
        "switchover",
        "--candidate",
        "node2",
        "--force",
        "-o",
        "json",
    ]);
    out.code(1);
    let doc = json_of(&out);
    assert_eq!(doc["kind"], "Switchover");
    assert_eq!(doc["error"]["exitCode"], 1);
    assert_eq!(doc["data"]["request"]["outcome"], "failed");
    assert_eq!(doc["data"]["request"]["httpStatus"], 412);
    assert_eq!(doc["data"]["request"]["member"], "node1");
    assert!(doc["data"]["rejection"]["reasons"][0]
        .as_str()
        .unwrap()
        .contains("tagged nofailover"));
    check_schema("Switchover", &doc);
}

#[test]
fn a_former_leader_that_never_rejoins_is_exit_7() {
    let w = World::demo_unreachable();
    let patroni = patroni_fails_over_to_node3(&w, false);
    let out = w.run(&[
        "failover",
        "--candidate",
        "node3",
        "--force",
        "--wait",
        "--wait-timeout",
        "1.5",
        "-o",
        "json",
    ]);
    patroni.join().unwrap();
    out.code(7);
    let doc = json_of(&out);
    assert_eq!(doc["kind"], "Failover");
    assert_eq!(doc["error"]["exitCode"], 7);
    assert_eq!(doc["error"]["category"], "wait-timeout");
    let stages = &doc["data"]["wait"]["stages"];
    assert_eq!(stages[0]["reached"], true);
    assert_eq!(stages[1]["reached"], false);
    assert_eq!(stages[1]["blocking"], serde_json::json!(["node1"]));
    assert_eq!(stages[1]["details"]["member"]["state"], "stopped");
    assert!(
        out.stderr.contains("  rejoin    NOT reached"),
        "{}",
        out.stderr
    );
    check_schema("Failover", &doc);
}
