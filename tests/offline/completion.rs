//! Dynamic completion through the committed bash script without a cluster: a dead DCS gives no
//! candidates, quickly; context names come from the contexts file. (Clusters, members and candidates
//! from a live DCS: `tests/cli/completion.rs`.)

use std::time::{Duration, Instant};

use crate::complete::*;

#[test]
fn a_dead_dcs_gives_no_candidates_quickly() {
    let start = Instant::now();
    let got = complete_bash(&[
        "patctl",
        "-d",
        "etcd3://127.0.0.1:1",
        "restart",
        "demo",
        "no",
    ]);
    assert!(got.is_empty(), "{got:?}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn completes_context_names() {
    let dir = std::env::temp_dir().join(format!("patctl-complete-ctx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("contexts.yaml");
    std::fs::write(
        &file,
        "contexts:\n  prod: {dcs_url: 'etcd3://127.0.0.1:1'}\n  staging: {dcs_url: 'etcd3://127.0.0.1:1'}\n",
    )
    .unwrap();
    let envs = [("PATCTL_CONTEXTS", file.to_str().unwrap())];
    let got = complete_bash_env(&["patctl", "--context", ""], &envs);
    assert_eq!(got, vec!["prod", "staging"]);
    let got = complete_bash_env(&["patctl", "context", "use", "st"], &envs);
    assert_eq!(got, vec!["staging"]);
    let got = complete_bash_env(&["patctl", "context", "show", "p"], &envs);
    assert_eq!(got, vec!["prod"]);
    std::fs::remove_dir_all(&dir).unwrap();
}
