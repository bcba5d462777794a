//! Dynamic completion through the committed bash script: cluster names, members and switchover
//! candidates come from the sandbox's DCS; a dead DCS gives no candidates, quickly.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::*;

/// Complete the last word of `words` with the committed bash registration; returns the candidates.
fn complete_bash(words: &[&str]) -> Vec<String> {
    complete_bash_env(words, &[])
}

/// [`complete_bash`] with extra environment.
fn complete_bash_env(words: &[&str], envs: &[(&str, &str)]) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/patctl.bash");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_patctl"))
        .parent()
        .unwrap()
        .to_path_buf();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source {}; COMP_WORDS=({}); COMP_CWORD={}; COMP_TYPE=9; _clap_complete_patctl patctl '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words.len() - 1,
        words.last().unwrap()
    );
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["-c", &program])
        .env("PATH", path)
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

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
