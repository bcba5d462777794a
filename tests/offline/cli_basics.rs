//! Parsing, configuration and exit codes that need no cluster: usage errors as patronictl words them
//! (the real patronictl as oracle where installed), config file errors, new flags validated, the
//! offline `version` envelope, and patctl invoked through a symlink named `patronictl`.

use std::path::Path;

use crate::fork_server::{patronictl_script, python_of, ForkServer, Script};
use crate::harness::*;
use crate::schema::{assert_valid, parse_json};

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
    // One error line, then the hint naming the endpoint tried and its error.
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stderr);
    assert!(
        lines[1].starts_with("Hint: tried http://127.0.0.1:1 (connection refused); "),
        "{}",
        out.stderr
    );
}

/// patctl started through a symlink named `patronictl`, in a scratch directory.
fn as_patronictl(args: &[&str]) -> Out {
    let dir = std::env::temp_dir().join(format!("patctl-usage-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("patronictl");
    // Tests run in parallel: another one may have made the link first.
    match std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_patctl"), &link) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => panic!("{e}"),
        _ => {}
    }
    run(
        link.to_str().unwrap(),
        args,
        None,
        &[],
        std::time::Duration::from_secs(60),
    )
}

#[test]
fn command_line_mistakes_read_as_patronictls() {
    if !installed(&patronictl_bin()) {
        return;
    }
    // Runbooks written for patronictl (seed 001 uses `--master`) get patronictl's words and exit 2.
    let cases: &[&[&str]] = &[
        &[
            "switchover",
            "--master",
            "node1",
            "--candidate",
            "node2",
            "--force",
        ],
        &["list", "--bogus"],
        &["list", "-x"],
        &["bogus"],
        &["remove"],
        &["restart", "demo", "--role", "x"],
        &["list", "demo", "--format"],
        &["list", "-f", "xml"],
        // click's close matches (difflib, cutoff 0.6) among patronictl's own names.
        &["lst"],
        &["lis"],
        &["edit-confi"],
        &["switchover", "--candidat", "node2"],
        &["switchover", "--forc"],
        &["restart", "--p"],
        &["--dcs-ur", "x", "list"],
    ];
    // patronictl's own entry point in a fork server: a Python start per case took 11 s.
    let python = python_of(&patronictl_bin());
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fork-patronictl");
    // Usage errors need none of the modules a command imports on first use.
    let script = Script {
        warm: &[],
        ..patronictl_script(&python)
    };
    let mut patronictl = ForkServer::start(&script, &dir);
    for args in cases {
        let theirs = patronictl.run(args);
        let ours = as_patronictl(args);
        assert_eq!(
            (ours.stderr.as_str(), ours.stdout.as_str()),
            (theirs.stderr.as_str(), theirs.stdout.as_str()),
            "{args:?}"
        );
        ours.code(2);
        theirs.code(2);
    }
}

#[test]
fn patctl_options_are_named_consistently_and_accepted_after_the_command() {
    // --request-timeout and --color work on either side of the command; the old --timeout still
    // works before it; --timeout 0 says what is allowed.
    for args in [
        &[
            "--request-timeout",
            "1",
            "-d",
            "etcd3://127.0.0.1:1",
            "list",
            "demo",
        ][..],
        &[
            "-d",
            "etcd3://127.0.0.1:1",
            "list",
            "demo",
            "--request-timeout",
            "1",
            "--color",
            "never",
        ],
        &[
            "--timeout",
            "1",
            "-d",
            "etcd3://127.0.0.1:1",
            "list",
            "demo",
        ],
    ] {
        let start = std::time::Instant::now();
        let out = patctl_raw(args, None, &[]);
        out.code(3);
        assert!(
            start.elapsed() < std::time::Duration::from_secs(4),
            "{args:?}"
        );
    }
    // A close match among patronictl's own options is patronictl's answer alone; patctl's options
    // are offered when none of patronictl's is close.
    let out = patctl_raw(&["list", "--timeout", "1"], None, &[]);
    out.code(2);
    assert!(
        out.stderr
            .ends_with("Error: No such option '--timeout'. Did you mean '--timestamp'?\n"),
        "{}",
        out.stderr
    );
    let out = patctl_raw(&["switchover", "--wai"], None, &[]);
    out.code(2);
    assert!(
        out.stderr
            .ends_with("Error: No such option '--wai'. Did you mean '--wait'?\n"),
        "{}",
        out.stderr
    );
    let out = patctl_raw(&["--request-timeout", "0", "list"], None, &[]);
    out.code(2);
    assert!(
        out.stderr.contains(
            "'0' is not a valid number of seconds: give a number greater than 0 and at most 3600"
        ),
        "{}",
        out.stderr
    );
    let out = patctl_raw(
        &["switchover", "--wait", "--wait-timeout", "soon"],
        None,
        &[],
    );
    out.code(2);
    assert!(out.stderr.contains("at most 86400"), "{}", out.stderr);
}

#[test]
fn no_dcs_names_where_patctl_looked() {
    let home = std::env::temp_dir().join(format!("patctl-nohome-{}", std::process::id()));
    let out = patctl_raw(
        &["pause", "demo"],
        None,
        &[("HOME", home.to_str().unwrap()), ("XDG_CONFIG_HOME", "")],
    );
    out.code(2);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        lines[0],
        "Error: Can not find suitable configuration of distributed configuration store"
    );
    assert!(
        lines[1].starts_with("Available implementations: etcd, etcd3"),
        "{}",
        out.stderr
    );
    assert!(!lines[1].contains("consul"), "{}", out.stderr);
    assert!(
        lines[2].contains("-c/--config-file not given, PATRONICTL_CONFIG_FILE not set"),
        "{}",
        out.stderr
    );
    assert!(
        lines[2].contains(".config/patroni/patronictl.yaml not found"),
        "{}",
        out.stderr
    );
}

#[test]
fn new_flags_are_validated() {
    let out = patctl_raw(&["switchover", "--timeout", "5"], None, &[]);
    out.code(2);
    assert!(out.stderr.contains("--wait"), "{}", out.stderr);
    let out = patctl_raw(&["failover", "--wait", "--dry-run"], None, &[]);
    out.code(2);
    let out = patctl_raw(&["switchover", "--wait", "--timeout", "soon"], None, &[]);
    out.code(2);
}

#[test]
fn offline_version_emits_an_envelope() {
    let out = patctl_raw(&["version", "-o", "json"], None, &[]);
    out.code(0);
    let env = parse_json(&out.stdout);
    assert_valid("Version", &env);
    assert_eq!(env["data"]["ctlVersion"], "4.1.5");
    assert_eq!(out.stderr, "patronictl version 4.1.5\n");
}

#[test]
fn invoked_as_patronictl_it_calls_itself_patronictl() {
    let out = as_patronictl(&["--help"]);
    out.code(0);
    assert!(
        out.stdout.contains("Usage: patronictl [OPTIONS] <COMMAND>"),
        "{}",
        out.stdout
    );
    let out = as_patronictl(&["list", "--bogus"]);
    out.code(2);
    assert!(out.stderr.contains("patronictl list"), "{}", out.stderr);
    assert_eq!(
        as_patronictl(&["version"]).stdout,
        "patronictl version 4.1.5\n"
    );
}
