//! Dynamic completion through the committed bash script on the sandbox: cluster names, members and
//! switchover candidates come from its DCS; a dead DCS still offers the configured scope. (Without a
//! cluster: `tests/offline/completion.rs`.)

use std::time::{Duration, Instant};

use crate::common::*;
use crate::complete::*;

#[test]
fn completes_clusters_members_and_candidates_from_the_dcs() {
    let Some(_g) = read_lock() else { return };
    let leader = wait_healthy(Duration::from_secs(60));
    let cfg = config();
    let clusters = complete_bash(&["patctl", "-c", &cfg, "list", ""]);
    assert!(clusters.contains(&"demo".to_string()), "{clusters:?}");
    let members = complete_bash(&["patctl", "-c", &cfg, "restart", "demo", ""]);
    for n in ["node1", "node2", "node3"] {
        assert!(members.contains(&n.to_string()), "{members:?}");
    }
    let candidates = complete_bash(&[
        "patctl",
        "-c",
        &cfg,
        "switchover",
        "demo",
        "--candidate",
        "",
    ]);
    assert!(
        !candidates.contains(&leader),
        "the leader is no candidate: {candidates:?}"
    );
    assert_eq!(candidates.len(), 2, "{candidates:?}");
    let subcommands = complete_bash(&["patctl", "swi"]);
    assert_eq!(subcommands, vec!["switchover"]);
}

#[test]
fn reinit_offers_replicas_only_and_a_dead_dcs_still_offers_the_configured_scope() {
    let Some(_g) = read_lock() else { return };
    let leader = wait_healthy(Duration::from_secs(60));
    let cfg = config();
    let mut members = complete_bash(&["patctl", "-c", &cfg, "reinit", "demo", ""]);
    members.retain(|w| !w.starts_with('-'));
    assert_eq!(members.len(), 2, "{members:?}");
    assert!(
        !members.contains(&leader),
        "Patroni refuses to reinit the leader: {members:?}"
    );
    // The config file names scope `demo`; its DCS is replaced by a dead one.
    let start = Instant::now();
    let mut clusters = complete_bash(&[
        "patctl",
        "-c",
        &cfg,
        "-d",
        "etcd3://127.0.0.1:1",
        "restart",
        "",
    ]);
    clusters.retain(|w| !w.starts_with('-'));
    assert_eq!(clusters, vec!["demo"]);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
}
