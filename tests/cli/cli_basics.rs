//! Parsing, configuration and exit codes that need no cluster.

use crate::common::*;

#[test]
fn version_without_cluster_matches_patronictl() {
    let out = patctl_raw(&["version"], None, &[]);
    out.code(0);
    assert_eq!(out.stdout, "patronictl version 4.1.5\n");
}

#[test]
fn unknown_option_is_a_usage_error() {
    let out = patctl_raw(&["list", "--no-such-flag"], None, &[]);
    out.code(2);
    assert!(out.stderr.contains("--no-such-flag"), "{}", out.stderr);
}

#[test]
fn missing_config_file_is_named() {
    let out = patctl_raw(&["-c", "/nonexistent/patroni.yml", "list"], None, &[]);
    out.code(2);
    assert_eq!(
        out.stderr,
        "Error: Provided config file /nonexistent/patroni.yml not existing or no read rights. Check the -c/--config-file parameter\n"
    );
}

#[test]
fn malformed_yaml_names_file_and_line() {
    let dir = std::env::temp_dir().join(format!("patctl-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("bad.yml");
    std::fs::write(&f, "scope: demo\netcd3:\n  hosts: [127.0.0.1:2379\n").unwrap();
    let out = patctl_raw(&["-c", f.to_str().unwrap(), "list"], None, &[]);
    out.code(2);
    assert!(
        out.stderr.starts_with("Error: malformed YAML in "),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("bad.yml") && out.stderr.contains("line"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
}

#[test]
fn bad_dcs_urls() {
    let out = patctl_raw(&["-d", "http://127.0.0.1:2379", "list", "demo"], None, &[]);
    out.code(2);
    assert_eq!(out.stderr, "Error: Unknown dcs scheme: http\n");
    let out = patctl_raw(
        &["-d", "etcd3://127.0.0.1:notaport", "list", "demo"],
        None,
        &[],
    );
    out.code(2);
    assert!(out.stderr.contains("notaport"), "{}", out.stderr);
}

#[test]
fn list_without_any_cluster_name_warns_and_exits_zero() {
    let home = std::env::temp_dir().join(format!("patctl-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let out = patctl_raw(
        &["list"],
        None,
        &[("HOME", home.to_str().unwrap()), ("XDG_CONFIG_HOME", "")],
    );
    out.code(0);
    assert!(
        out.stderr
            .ends_with(" - WARNING - Listing members: No cluster names were provided\n"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "");
}

#[test]
fn unreachable_dcs_fails_fast_naming_the_endpoint() {
    // Nothing listens on this loopback port.
    let start = std::time::Instant::now();
    let out = patctl_raw(
        &[
            "--timeout",
            "2",
            "-d",
            "etcd3://127.0.0.1:1",
            "list",
            "demo",
        ],
        None,
        &[],
    );
    out.code(3);
    assert!(start.elapsed() < std::time::Duration::from_secs(15));
    assert!(
        out.stderr.starts_with("Error: DCS unreachable"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("127.0.0.1:1"), "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1);
}
