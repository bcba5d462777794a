//! Snapshots, as jj keeps them: every command's `--help`, and the main error messages with stdout,
//! stderr and exit code together, in `tests/snapshots/`. A change to any of them shows up as a diff
//! in review; `UPDATE_GENERATED=1 cargo test --test offline snapshots` rewrites them.

use crate::generated::check;

/// `patctl ARGS` in a fixed environment (no config found, fixed width, run in a scratch directory
/// holding `bad.yml`), as one snapshot text.
fn transcript(args: &[&str]) -> String {
    // Its own directory per thread: tests run in parallel and must not see each other's half-written file.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("snapshots-{:?}", std::thread::current().id()).replace(['(', ')'], ""));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bad.yml"), "scope: demo\netcd3: [unclosed\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_patctl"))
        .args(args)
        .current_dir(&dir)
        .env("HOME", "/nonexistent-patctl-home")
        .env("COLUMNS", "100")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("PATRONICTL_CONFIG_FILE")
        .env_remove("DCS_URL")
        .env_remove("PATCTL_REQUEST_TIMEOUT")
        .env_remove("PATCTL_TIMEOUT")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    format!(
        "$ patctl {}\n--- stdout\n{}--- stderr\n{}--- exit {}\n",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        out.status.code().unwrap_or(-1)
    )
}

#[test]
fn help_of_every_command() {
    let mut files = vec![(
        "patctl.txt".to_string(),
        transcript(&["--help"]).into_bytes(),
    )];
    for sub in patctl::command().get_subcommands() {
        let name = sub.get_name().to_string();
        files.push((
            format!("{name}.txt"),
            transcript(&[&name, "--help"]).into_bytes(),
        ));
    }
    check("tests/snapshots/help", files);
}

#[test]
fn main_error_messages() {
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "missing-config-file",
            vec!["-c", "/nonexistent/patroni.yml", "list"],
        ),
        ("malformed-yaml", vec!["-c", "bad.yml", "list"]),
        ("no-dcs", vec!["pause", "demo"]),
        (
            "bad-dcs-url",
            vec!["-d", "bogus://127.0.0.1:1", "list", "demo"],
        ),
        (
            "dcs-refused",
            vec![
                "--request-timeout",
                "1",
                "-d",
                "etcd3://127.0.0.1:1",
                "list",
                "demo",
            ],
        ),
        (
            "unknown-option",
            vec!["switchover", "--master", "node1", "--force"],
        ),
        ("unknown-command", vec!["bogus"]),
        ("missing-argument", vec!["remove"]),
        ("bad-choice", vec!["list", "-f", "xml"]),
        ("bad-timeout", vec!["--request-timeout", "0", "list"]),
        (
            "wait-timeout-without-wait",
            vec!["switchover", "--wait-timeout", "5"],
        ),
    ];
    let files = cases
        .into_iter()
        .map(|(name, args)| (format!("{name}.txt"), transcript(&args).into_bytes()))
        .collect();
    check("tests/snapshots/errors", files);
}

#[test]
fn the_command_tree_is_consistent() {
    // clap's own checks (conflicting names, bad defaults, missing value names) in a test build.
    patctl::command().debug_assert();
    patctl::cli::Cli::command_for("patronictl").debug_assert();
}
