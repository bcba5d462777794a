//! `check`: check_patroni's output for states the sandbox cannot easily show (sync standbies, a
//! standby leader in archive recovery, HTTP errors, a hung endpoint), endpoints from the DCS without
//! `-e`, usage errors. The expected lines are check_patroni 2.2's for the same answers.

use crate::fake_api::*;
use crate::harness::*;

const CLUSTER: &str = r#"{"members": [
 {"name": "node1", "role": "leader", "state": "running", "api_url": "http://x/patroni", "timeline": 3},
 {"name": "node2", "role": "sync_standby", "state": "streaming", "timeline": 3, "lag": 0},
 {"name": "pg-3", "role": "replica", "state": "streaming", "timeline": 3, "lag": 2097152},
 {"name": "node4", "role": "replica", "state": "in archive recovery", "timeline": 2, "lag": 0}],
 "scope": "demo", "pause": true, "scheduled_switchover": {"at": "2099-01-01T00:00:00+00:00"}}"#;

const PATRONI: &str = r#"{"state": "running", "role": "replica", "timeline": 3, "pending_restart": true, "patroni": {"version": "4.1.5", "scope": "demo", "name": "node2"}}"#;

fn api() -> FakeApi {
    fake_api_routes(&[
        ("GET /cluster", Reply::Status(200, CLUSTER)),
        ("GET /patroni", Reply::Status(200, PATRONI)),
        ("GET /replica", Reply::Status(200, PATRONI)),
        ("GET /primary", Reply::Status(503, "{}")),
        ("GET /liveness", Reply::Status(200, "")),
        ("GET /config", Reply::Status(503, "{}")),
    ])
}

fn check(w: &World, url: &str, args: &[&str]) -> Out {
    let mut full = vec!["check", "-e", url];
    full.extend_from_slice(args);
    w.run(&full)
}

#[test]
fn cluster_checks_print_check_patronis_lines() {
    let a = api();
    let w = World::empty();
    let u = a.url();
    let out = check(
        &w,
        &u,
        &[
            "cluster_has_replica",
            "--max-lag",
            "1MB",
            "--sync-critical",
            "2:",
        ],
    );
    out.code(2);
    assert_eq!(
        out.stdout,
        "CLUSTERHASREPLICA CRITICAL - sync_replica is 1 (outside range 2:) | 'pg-3_lag'=2097152 'pg-3_sync'=0 'pg-3_timeline'=3 healthy_replica=1 node2_lag=0 node2_sync=1 node2_timeline=3 node4_lag=0 node4_sync=0 node4_timeline=2 sync_replica=1;;2: unhealthy_replica=2\n"
    );
    let out = check(
        &w,
        &u,
        &["cluster_has_replica", "--sync-type", "quorum", "-w", "3:"],
    );
    out.code(1);
    assert_eq!(
        out.stdout,
        "CLUSTERHASREPLICA WARNING - healthy_replica is 2 (outside range 3:) | 'pg-3_lag'=2097152 'pg-3_sync'=0 'pg-3_timeline'=3 healthy_replica=2;3: node2_lag=0 node2_sync=1 node2_timeline=3 node4_lag=0 node4_sync=0 node4_timeline=2 sync_replica=0 unhealthy_replica=1\n"
    );
    check(&w, &u, &["cluster_is_in_maintenance"]).code(2);
    let out = check(&w, &u, &["cluster_has_scheduled_action"]);
    out.code(2);
    assert_eq!(
        out.stdout,
        "CLUSTERHASSCHEDULEDACTION CRITICAL - has_scheduled_actions is 1 (outside range 0:0) | has_scheduled_actions=1;;0 scheduled_restart=0 scheduled_switchover=1\n"
    );
    let out = check(&w, &u, &["cluster_node_count", "--healthy-warning", "4"]);
    out.code(0);
    assert_eq!(
        out.stdout,
        "CLUSTERNODECOUNT OK - members is 4 | healthy_members=3;4 members=4 role_leader=1 role_replica=2 role_sync_standby=1 state_in_archive_recovery=1 state_running=1 state_streaming=2\n"
    );
    // An HTTP error where a cluster check needs data is not caught by check_patroni.
    let out = check(&w, &u, &["cluster_config_has_changed", "--hash", "x"]);
    out.code(3);
    assert_eq!(
        out.stdout,
        format!("CLUSTERCONFIGHASCHANGED UNKNOWN: check_patroni.types.APIError: Failed to connect to {u}/config status code 503\n")
    );
}

#[test]
fn node_checks_print_check_patronis_lines() {
    let a = api();
    let w = World::empty();
    let u = a.url();
    let out = check(&w, &u, &["node_is_primary"]);
    out.code(2);
    assert_eq!(
        out.stdout,
        "NODEISPRIMARY CRITICAL - This node is not the primary with the leader lock. | is_primary=0;;@0\n"
    );
    check(&w, &u, &["node_is_alive"]).code(0);
    check(&w, &u, &["node_is_pending_restart"]).code(2);
    check(&w, &u, &["node_is_replica", "--is-sync"]).code(2);
    let out = check(&w, &u, &["node_tl_has_changed", "--timeline", "2"]);
    out.code(2);
    assert_eq!(
        out.stdout,
        "NODETLHASCHANGED CRITICAL - The expected timeline was 2 got 3. | is_timeline_changed=1;;@1:1 timeline=3\n"
    );
    let out = check(
        &w,
        &u,
        &["-v", "node_patroni_version", "--patroni-version", "4.1.5"],
    );
    out.code(0);
    assert_eq!(
        out.stdout,
        "NODEPATRONIVERSION OK - Patroni's version is 4.1.5.\n| is_version_ok=1;;@0\n"
    );
}

#[test]
fn unreachable_hung_and_misused() {
    let w = World::empty();
    let out = check(&w, &dead_api(), &["cluster_has_leader"]);
    out.code(3);
    assert_eq!(
        out.stdout,
        "CLUSTERHASLEADER UNKNOWN - Connection failed for all provided endpoints\n"
    );
    let hung = fake_api(&[Reply::Hang]);
    let out = w.run(&[
        "check",
        "-e",
        &hung.url(),
        "--timeout",
        "1",
        "node_is_alive",
    ]);
    out.code(3);
    assert_eq!(
        out.stdout,
        "NODEISALIVE UNKNOWN: Timeout: check execution aborted after 1\n"
    );
    // A usage error raised inside the check is check_patroni's UNKNOWN line (exit 3), not click's 2.
    let out = check(&w, &dead_api(), &["node_tl_has_changed"]);
    out.code(3);
    assert_eq!(
        out.stdout,
        "UNKNOWN: click.exceptions.UsageError: Either --timeline or --state-file should be provided for this service\n"
    );
    assert_eq!(out.stderr, "");
    let out = check(
        &w,
        &dead_api(),
        &["node_tl_has_changed", "--state-file", "/nonexistent/dir/tl"],
    );
    out.code(3);
    assert_eq!(
        out.stdout,
        "UNKNOWN: FileNotFoundError: [Errno 2] No such file or directory: '/nonexistent/dir/tl'\n"
    );
    let out = check(
        &w,
        &dead_api(),
        &["cluster_has_replica", "--max-lag", "100"],
    );
    out.code(3);
    assert_eq!(
        out.stdout,
        "UNKNOWN: click.exceptions.BadParameter: Invalid unit for size f{value}\n"
    );
}

#[test]
fn without_endpoints_the_members_come_from_the_dcs() {
    let a = api();
    let w = World::demo_served_by(&a);
    let out = w.run(&["check", "cluster_has_leader"]);
    out.code(0);
    assert!(out
        .stdout
        .starts_with("CLUSTERHASLEADER OK - The cluster has a running leader."));
    assert_eq!(a.requests()[0], "GET /cluster ");
    let out = w.run(&["check", "-m", "node2", "node_is_pending_restart"]);
    out.code(2);
    // No -e, no --member, no `name` in the configuration: an error inside the check, UNKNOWN.
    let out = w.run(&["check", "node_is_alive"]);
    out.code(3);
    assert!(
        out.stdout
            .starts_with("NODEISALIVE UNKNOWN - node_is_alive checks one node"),
        "{}",
        out.stdout
    );
    // A member without a key (its node is down): UNKNOWN.
    let out = w.run(&["check", "-m", "node9", "node_is_alive"]);
    out.code(3);
    assert!(
        out.stdout
            .starts_with("NODEISALIVE UNKNOWN - node9 is not a member"),
        "{}",
        out.stdout
    );
    let dead = World::demo_unreachable();
    let out = dead.run(&["check", "cluster_has_leader"]);
    out.code(3);
    assert_eq!(
        out.stdout,
        "CLUSTERHASLEADER UNKNOWN - Connection failed for all provided endpoints\n"
    );
}

/// A Patroni 4.1+ `/cluster` (`receive_lsn` on replicas) answers whether states are detailed, so
/// `/patroni` is not asked; an older one's `/cluster` leaves it to `/patroni`'s version, and a 3.0.3
/// counts `running` replicas as healthy, as check_patroni does.
#[test]
fn detailed_states_come_from_the_cluster_view_when_it_shows_them() {
    let w = World::empty();
    let new = r#"{"members": [
 {"name": "node1", "role": "leader", "state": "running", "timeline": 3},
 {"name": "node2", "role": "replica", "state": "streaming", "timeline": 3, "lag": 0, "receive_lsn": "0/3000000", "receive_lag": 0}]}"#;
    let a = fake_api_routes(&[
        ("GET /cluster", Reply::Status(200, new)),
        ("GET /patroni", Reply::Status(200, PATRONI)),
    ]);
    let out = check(&w, &a.url(), &["cluster_has_replica"]);
    out.code(0);
    assert!(out.stdout.contains("healthy_replica=1 "), "{}", out.stdout);
    assert_eq!(a.requests().len(), 1, "{:?}", a.requests());

    let old = r#"{"members": [
 {"name": "node1", "role": "leader", "state": "running", "timeline": 3},
 {"name": "node2", "role": "replica", "state": "running", "timeline": 3, "lag": 0}]}"#;
    let b = fake_api_routes(&[
        ("GET /cluster", Reply::Status(200, old)),
        (
            "GET /patroni",
            Reply::Status(200, r#"{"patroni": {"version": "3.0.3"}}"#),
        ),
    ]);
    let out = check(&w, &b.url(), &["cluster_node_count"]);
    out.code(0);
    assert!(out.stdout.contains("healthy_members=2 "), "{}", out.stdout);
    assert_eq!(b.requests().len(), 2, "{:?}", b.requests());
}

#[test]
fn config_ini_gives_defaults_and_the_command_line_wins() {
    let a = api();
    let w = World::empty();
    let dir = std::env::temp_dir().join(format!("patctl-ini-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ini = dir.join("check.ini");
    std::fs::write(
        &ini,
        format!(
            "[DEFAULT]\nwarning = 5:\n[options]\nendpoints = {}, http://127.0.0.1:1\n[options.cluster_node_count]\ncritical = 9:\n",
            a.url()
        ),
    )
    .unwrap();
    let ini = ini.display().to_string();
    let out = w.run(&["check", "--config", &ini, "cluster_node_count"]);
    out.code(2);
    assert!(
        out.stdout
            .starts_with("CLUSTERNODECOUNT CRITICAL - members is 4 (outside range 9:)"),
        "{}",
        out.stdout
    );
    let out = w.run(&["check", "--config", &ini, "cluster_node_count", "-c", "1:"]);
    out.code(1);
    assert!(
        out.stdout
            .starts_with("CLUSTERNODECOUNT WARNING - members is 4 (outside range 5:)"),
        "{}",
        out.stdout
    );
    // `-e` on the command line replaces the file's endpoints: the only one given is closed.
    let out = w.run(&[
        "check",
        "--config",
        &ini,
        "-e",
        "http://127.0.0.1:1",
        "cluster_node_count",
    ]);
    out.code(3);
    assert_eq!(
        out.stdout,
        "CLUSTERNODECOUNT UNKNOWN - Connection failed for all provided endpoints\n"
    );

    std::fs::write(dir.join("bad.ini"), "[options]\ntimeout = 5\nverbose\n").unwrap();
    let bad = dir.join("bad.ini").display().to_string();
    let out = w.run(&["check", "--config", &bad, "cluster_has_leader"]);
    out.code(2);
    assert_eq!(
        out.stderr,
        format!(
            "Error: --config {bad}: line 3: neither a section nor `key = value`: \"verbose\"\n"
        )
    );
    std::fs::write(dir.join("count.ini"), "[options]\nverbose = lots\n").unwrap();
    let count = dir.join("count.ini").display().to_string();
    let out = w.run(&["check", "--config", &count, "cluster_has_leader"]);
    out.code(2);
    assert_eq!(
        out.stderr,
        "Error: --config: verbose = \"lots\" is not a count\n"
    );
    let missing = dir.join("missing.ini").display().to_string();
    let out = w.run(&["check", "--config", &missing, "cluster_has_leader"]);
    out.code(2);
    assert!(
        out.stderr
            .starts_with(&format!("Error: cannot read --config {missing}: ")),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
    std::fs::remove_dir_all(&dir).ok();
}
