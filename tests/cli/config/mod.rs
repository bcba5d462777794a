//! `show-config`, `edit-config`, `pause` and `resume` on the sandbox cluster: output compared with the
//! real patronictl, changes checked in etcd and through Patroni's own `GET /config`, the member keys
//! and `list`. Every test that writes restores the original config key, even when it fails.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;
use crate::schema::{assert_valid, parse_json};

fn config_key() -> String {
    format!("/service/{}/config", env("SANDBOX_SCOPE"))
}

fn current_config() -> Value {
    serde_json::from_str(&etcd_get(&config_key()).expect("config key")).unwrap()
}

/// Puts the config key back as it was when dropped (also while a failed test unwinds).
struct Restore {
    original: String,
}

impl Restore {
    fn new() -> Restore {
        wait_healthy(Duration::from_secs(60));
        Restore {
            original: etcd_get(&config_key()).expect("config key"),
        }
    }
    fn put_back(&self) {
        if etcd_get(&config_key()).as_deref() != Some(self.original.as_str()) {
            etcd_put(&config_key(), &self.original);
        }
    }
}

impl Drop for Restore {
    fn drop(&mut self) {
        self.put_back();
        let _ = std::fs::remove_dir_all(scratch_dir());
    }
}

/// A scratch directory for editor scripts and files (one per test thread, removed by [`Restore`]).
fn scratch_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "patctl-config-test-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write_script(name: &str, body: &str) -> String {
    let p = scratch_dir().join(name);
    std::fs::write(&p, body).unwrap();
    p.to_string_lossy().into_owned()
}

/// `patctl edit-config --force` with the shell script `body` (written as `name`) as the editor.
fn edit_config_force_with(name: &str, body: &str) -> Out {
    let editor = format!("sh {}", write_script(name, body));
    patctl_env(
        &["edit-config", "--force"],
        None,
        &[("EDITOR", editor.as_str())],
    )
}

#[test]
fn show_config_matches_patronictl() {
    let Some(_g) = read_lock() else { return };
    wait_healthy(Duration::from_secs(60));
    let out = assert_same(&["show-config"]);
    out.code(0);
    assert!(out.stdout.contains("loop_wait: ") && out.stdout.ends_with("\n\n"));
    assert_same(&["show-config", "demo"]);
    // No config key: nothing printed, exit 0.
    let none = assert_same(&["show-config", "no-such-cluster"]);
    assert_eq!((none.stdout.as_str(), none.code), ("", 0));
}

#[test]
fn set_and_pg_match_patronictl_and_reach_patroni() {
    let Some(_g) = write_lock() else { return };
    let restore = Restore::new();
    let args = [
        "edit-config",
        "-s",
        "loop_wait=3",
        "-s",
        "maximum_lag_on_failover=2097152",
        "-p",
        "work_mem=8MB",
        "-p",
        " max_connections=100",
    ];
    // Answering no: same diff and prompt as patronictl, nothing written.
    let theirs = patronictl_stdin(&args, "n\n");
    let ours = patctl_stdin(&args, "n\n");
    ours.code(0);
    // stdout is patronictl's byte for byte; patctl's note is on stderr.
    assert_eq!(ours.stdout, theirs.stdout);
    assert!(ours.stdout.contains("@@ -1,"), "{}", ours.stdout);
    assert_eq!(ours.stderr, "Applied on reload: work_mem\n");
    assert_eq!(etcd_get(&config_key()).unwrap(), restore.original);

    // Yes: written, visible to show-config and to Patroni itself.
    let ours = patctl_stdin(&args, "y\n");
    ours.code(0);
    assert!(
        ours.stdout
            .ends_with("Apply these changes? [y/N]: Configuration changed\n"),
        "{}",
        ours.stdout
    );
    let shown = patctl(&["show-config"]).stdout;
    assert!(shown.contains("loop_wait: 3\n") && shown.contains("    work_mem: 8MB\n"));
    assert_eq!(shown, patronictl(&["show-config"]).stdout);
    // Patroni serves GET /config from its own view of the DCS, which follows within a loop.
    wait_until("node2 GET /config", Duration::from_secs(20), || {
        rest_get(api_port(2), "config").is_some_and(|rest| {
            rest["loop_wait"] == 3
                && rest["maximum_lag_on_failover"] == 2097152
                && rest["postgresql"]["parameters"]["work_mem"] == "8MB"
        })
    });
    // Existing keys keep their order; new ones are appended.
    let before: Value = serde_json::from_str(&restore.original).unwrap();
    let after = current_config();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&before), keys(&after));
}

#[test]
fn written_json_is_byte_for_byte_patronictls() {
    let Some(_g) = write_lock() else { return };
    let restore = Restore::new();
    let args = [
        "edit-config",
        "--force",
        "-s",
        "retry_timeout=6",
        "-s",
        "maximum_lag_on_failover=",
        "-p",
        "work_mem=8MB",
        "-p",
        "hot_standby=on",
        "-s",
        "postgresql.use_slots=yes",
        "-s",
        "synchronous_node_count=1",
    ];
    patronictl(&args).code(0);
    let theirs = etcd_get(&config_key()).unwrap();
    restore.put_back();
    let ours = patctl(&args);
    ours.code(0);
    assert_eq!(etcd_get(&config_key()).unwrap(), theirs);
    assert!(!theirs.contains("maximum_lag_on_failover") && theirs.contains("\"hot_standby\":true"));
    // --force shows the diff but does not ask.
    assert!(!ours.stdout.contains("[y/N]") && ours.stdout.ends_with("Configuration changed\n"));
}

#[test]
fn apply_and_replace() {
    let Some(_g) = write_lock() else { return };
    let restore = Restore::new();
    let patch = "loop_wait: 4\npostgresql:\n  parameters:\n    work_mem: 16MB\n";
    // From stdin without --force: the diff, then the refusal, nothing written (as patronictl).
    // From stdin without --force: the diff, then the refusal, nothing written. stdout is
    // patronictl's; patronictl then exits 0, patctl exits 2 and says so on stderr.
    let ours = patctl_stdin(&["edit-config", "--apply", "-"], patch);
    let theirs = patronictl_stdin(&["edit-config", "--apply", "-"], patch);
    assert_eq!(ours.stdout, theirs.stdout);
    assert_eq!((theirs.code, ours.code), (0, 2));
    assert!(ours
        .stdout
        .ends_with("Use --force option to apply changes\n"));
    assert!(
        ours.stderr.ends_with(
            "Error: nothing written: changes read from standard input are applied only with --force\n"
        ),
        "{}",
        ours.stderr
    );
    assert_eq!(etcd_get(&config_key()).unwrap(), restore.original);

    patctl_stdin(&["edit-config", "--apply", "-", "--force"], patch).code(0);
    let cfg = current_config();
    assert_eq!(cfg["loop_wait"], 4);
    assert_eq!(cfg["postgresql"]["parameters"]["work_mem"], "16MB");
    assert_eq!(cfg["postgresql"]["parameters"]["max_connections"], 100);
    assert!(patctl(&["show-config"])
        .stdout
        .contains("    work_mem: 16MB\n"));

    // --replace FILE: the file is the whole config; keys it lacks are gone.
    let mut whole = patctl(&["show-config"]).stdout;
    whole = whole.replace("loop_wait: 4\n", "loop_wait: 5\n");
    whole = whole
        .lines()
        .filter(|l| !l.starts_with("maximum_lag_on_failover"))
        .map(|l| format!("{l}\n"))
        .collect();
    let file = scratch_dir().join("replace.yaml");
    std::fs::write(&file, &whole).unwrap();
    let out = patctl_stdin(&["edit-config", "--replace", file.to_str().unwrap()], "y\n");
    out.code(0);
    assert!(
        out.stdout.contains("-maximum_lag_on_failover: 1048576\n"),
        "{}",
        out.stdout
    );
    let cfg = current_config();
    assert_eq!(cfg["loop_wait"], 5);
    assert!(cfg.get("maximum_lag_on_failover").is_none());
    wait_until("node3 GET /config", Duration::from_secs(20), || {
        rest_get(api_port(3), "config").is_some_and(|rest| {
            rest["loop_wait"] == 5 && rest.get("maximum_lag_on_failover").is_none()
        })
    });
}

#[test]
fn editor_script_edits_the_config() {
    let Some(_g) = write_lock() else { return };
    let restore = Restore::new();
    let cur = current_config()["loop_wait"].as_i64().unwrap();
    // EDITOR with arguments (patronictl cannot run these); the script logs the file it got.
    let log = scratch_dir().join("editor.log");
    let script = write_script(
        "edit.sh",
        "#!/bin/sh\necho \"$1\" > \"$EDIT_LOG\"\nsed -i \"$SED_EXPR\" \"$1\"\n",
    );
    let editor = format!("sh {script}");
    let expr = format!("s/^loop_wait: {cur}$/loop_wait: {}/", cur + 1);
    let envs = [
        ("EDITOR", editor.as_str()),
        ("EDIT_LOG", log.to_str().unwrap()),
        ("SED_EXPR", expr.as_str()),
    ];
    let out = patctl_env(&["edit-config"], Some("y\n"), &envs);
    out.code(0);
    assert!(
        out.stdout.starts_with(&format!(
            "--- \n+++ \n@@ -1,4 +1,4 @@\n-loop_wait: {cur}\n+loop_wait: {}\n",
            cur + 1
        )),
        "{}",
        out.stdout
    );
    assert_eq!(current_config()["loop_wait"], cur + 1);
    assert_ne!(etcd_get(&config_key()).unwrap(), restore.original);
    // The temporary file was <cluster>-config-XXXX.yaml and is gone.
    let used = std::fs::read_to_string(&log).unwrap().trim().to_string();
    let name = used.rsplit('/').next().unwrap();
    assert!(
        name.starts_with("demo-config-") && name.ends_with(".yaml"),
        "{used}"
    );
    assert!(!std::path::Path::new(&used).exists());

    // Saved unchanged: "Not changed", as patronictl.
    let out = patctl_env(&["edit-config"], None, &[("EDITOR", "true")]);
    assert_eq!((out.stdout.as_str(), out.code), ("Not changed\n", 0));
    // A failing editor.
    let out = patctl_env(&["edit-config"], None, &[("EDITOR", "false")]);
    out.code(1);
    assert_eq!(out.stderr, "Error: Editor exited with return code 1\n");
}

#[test]
fn concurrent_change_while_editing_is_kept() {
    let Some(_g) = write_lock() else { return };
    let _restore = Restore::new();
    let mut concurrent = current_config();
    concurrent["retry_timeout"] = Value::from(6);
    let concurrent = serde_json::to_string(&concurrent).unwrap();
    // The "editor" changes the config key behind patctl's back, then edits the buffer.
    let script = write_script(
        "race.sh",
        "#!/bin/sh\nETCDCTL_API=3 etcdctl --endpoints \"$SANDBOX_ETCD_URL\" put \"$CFG_KEY\" \"$CONCURRENT\" >/dev/null || exit 9\nsed -i 's/^loop_wait: .*/loop_wait: 7/' \"$1\"\n",
    );
    let editor = format!("sh {script}");
    let key = config_key();
    let envs = [
        ("EDITOR", editor.as_str()),
        ("CFG_KEY", key.as_str()),
        ("CONCURRENT", concurrent.as_str()),
    ];
    let out = patctl_env(&["edit-config"], Some("y\n"), &envs);
    out.code(4);
    assert_eq!(
        out.stderr,
        "Error: Config modification aborted due to concurrent changes\n"
    );
    assert_eq!(etcd_get(&config_key()).unwrap(), concurrent);
    // Same with --force (no prompt between reading and writing).
    let out = patctl_env(&["edit-config", "--force"], None, &envs);
    out.code(4);
    assert_eq!(etcd_get(&config_key()).unwrap(), concurrent);
}

#[test]
fn bad_input_changes_nothing() {
    let Some(_g) = write_lock() else { return };
    let restore = Restore::new();
    let unchanged = || assert_eq!(etcd_get(&config_key()).unwrap(), restore.original);

    // Malformed YAML from the editor, from a file, in a -s value.
    let out = edit_config_force_with("break.sh", "#!/bin/sh\nprintf 'ttl: [20\\n' >> \"$1\"\n");
    out.code(1);
    assert!(
        out.stderr
            .starts_with("Error: The edited configuration is not valid YAML: "),
        "{}",
        out.stderr
    );
    unchanged();
    let file = scratch_dir().join("bad.yaml");
    std::fs::write(&file, "loop_wait: {3\n").unwrap();
    let out = patctl(&["edit-config", "--force", "--apply", file.to_str().unwrap()]);
    out.code(1);
    assert!(
        out.stderr.contains("bad.yaml is not valid YAML"),
        "{}",
        out.stderr
    );
    let out = patctl(&["edit-config", "--force", "-s", "loop_wait=[1,"]);
    out.code(1);
    assert!(
        out.stderr
            .starts_with("Error: Invalid value for loop_wait: \"[1,\""),
        "{}",
        out.stderr
    );
    // An empty editor buffer would be `null` for patronictl (written!): refused.
    let out = edit_config_force_with("empty.sh", "#!/bin/sh\n: > \"$1\"\n");
    out.code(1);
    assert_eq!(
        out.stderr,
        "Error: The edited configuration is empty; nothing written\n"
    );
    unchanged();

    // Invalid Patroni values and PostgreSQL parameters, with or without --force (which only skips
    // the prompt): refused, nothing written, until --skip-checks.
    for (set, msg) in [
        ("loop_wait=0", "loop_wait must be a positive integer, not 0"),
        ("ttl=-30", "ttl must be a positive integer, not -30"),
        (
            "retry_timeout=soon",
            "retry_timeout must be a positive integer, not \"soon\"",
        ),
        (
            "maximum_lag_on_failover=lots",
            "maximum_lag_on_failover must be a number >= 0, not \"lots\"",
        ),
    ] {
        for force in [false, true] {
            let mut args = vec!["edit-config", "-s", set];
            args.extend(force.then_some("--force"));
            let out = patctl_stdin(&args, "y\n");
            out.code(1);
            assert!(
                out.stderr.ends_with(&format!(
                    "Error: {msg}; nothing written (use --skip-checks to write it anyway)\n"
                )),
                "{args:?}: {}",
                out.stderr
            );
            assert!(out.stdout.starts_with("--- \n"), "the diff is still shown");
            unchanged();
        }
    }
    // PostgreSQL parameters, checked against the cluster's major (the sandbox runs 15).
    for (pg, msg) in [
        (
            "work_mem=lots",
            "work_mem must be an integer (unit kB, or one of B, kB, MB, GB, TB), not \"lots\"",
        ),
        (
            "max_connections=0",
            "max_connections = 0 is out of range for PostgreSQL 15 (1 to 262143): Patroni would use 1",
        ),
        ("wal_level=full", "wal_level must be one of minimal, replica, logical, not \"full\""),
        ("hot_standby=maybe", "hot_standby must be a boolean (on, off, true, false, yes, no, 1, 0), not \"maybe\""),
        (
            "reserved_connections=3",
            "reserved_connections is not a PostgreSQL 15 parameter (Patroni would drop it)",
        ),
        (
            "primary_conninfo=host=x",
            "primary_conninfo is a recovery parameter: Patroni manages it and drops it from postgresql.parameters (see postgresql.recovery_conf)",
        ),
    ] {
        let out = patctl(&["edit-config", "--force", "-p", pg]);
        out.code(1);
        assert!(
            out.stderr.ends_with(&format!(
                "Error: {msg}; nothing written (use --skip-checks to write it anyway)\n"
            )),
            "{pg}: {}",
            out.stderr
        );
        unchanged();
    }
    patctl(&[
        "edit-config",
        "--force",
        "--skip-checks",
        "-s",
        "maximum_lag_on_failover=lots",
    ])
    .code(0);
    assert_eq!(current_config()["maximum_lag_on_failover"], "lots");
    restore.put_back();

    // Messages patronictl has too.
    for args in [
        &["edit-config", "-s", "loop_wait"][..],
        &["edit-config", "--force", "-p", "novalue"],
        &["edit-config", "no-such-cluster", "-s", "a=1"],
    ] {
        let ours = patctl(args);
        let theirs = patronictl(args);
        // patronictl's error line, then at most patctl's hint (an unknown cluster's: the scopes).
        let (error, hint) = ours
            .stderr
            .split_at(ours.stderr.find("Hint: ").unwrap_or(ours.stderr.len()));
        assert_eq!(
            (&ours.stdout, error, ours.code),
            (&theirs.stdout, theirs.stderr.as_str(), theirs.code),
            "{args:?}"
        );
        if args[1] == "no-such-cluster" {
            assert!(
                hint.starts_with("Hint: there is no cluster no-such-cluster"),
                "{hint}"
            );
        }
    }
    let cur = current_config()["loop_wait"].to_string();
    assert_same(&["edit-config", "-s", &format!("loop_wait={cur}")]);
    unchanged();
}

#[test]
fn machine_output_reports_the_edit() {
    let Some(_g) = write_lock() else { return };
    let restore = Restore::new();
    let cur = current_config()["loop_wait"].as_i64().unwrap();
    let set = format!("loop_wait={}", cur + 1);
    // Without --force machine output would have to prompt: exit 2, nothing written.
    let out = patctl(&["-o", "json", "edit-config", "-s", &set]);
    out.code(2);
    let env: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(env["kind"], "ConfigEdit");
    assert_eq!(env["error"]["exitCode"], 2);
    assert_eq!(env["data"]["written"], false);
    assert_valid("ConfigEdit", &parse_json(&out.stdout));
    assert_eq!(etcd_get(&config_key()).unwrap(), restore.original);
    // A refused value: exit 1, the changes as data, nothing written.
    let out = patctl(&["edit-config", "-o", "json", "--force", "-s", "loop_wait=0"]);
    out.code(1);
    assert_valid("ConfigEdit", &parse_json(&out.stdout));
    assert_eq!(etcd_get(&config_key()).unwrap(), restore.original);
    // Written: old and new values, the parameters by context for PostgreSQL 15.
    let out = patctl(&[
        "edit-config",
        "-o",
        "json",
        "--force",
        "-s",
        &set,
        "-p",
        "work_mem=8MB",
        "-p",
        "max_connections=110",
    ]);
    out.code(0);
    assert_valid("ConfigEdit", &parse_json(&out.stdout));
    let env: Value = serde_json::from_str(&out.stdout).unwrap();
    let data = &env["data"];
    assert_eq!(data["cluster"], "demo");
    assert_eq!(data["written"], true);
    assert_eq!(data["postgresMajor"], 15);
    assert_eq!(data["needsRestart"], serde_json::json!(["max_connections"]));
    assert_eq!(data["appliedOnReload"], serde_json::json!(["work_mem"]));
    assert_eq!(
        data["changes"][0],
        serde_json::json!({"key": "loop_wait", "old": cur, "new": cur + 1})
    );
    assert_eq!(current_config()["loop_wait"], cur + 1);
    restore.put_back();
    wait_until("pending restart cleared", Duration::from_secs(40), || {
        !patctl(&["list"]).stdout.contains("Pending restart")
    });
}

#[test]
fn pg_parameter_change_shows_pending_restart() {
    let Some(_g) = write_lock() else { return };
    let restore = Restore::new();
    let out = patctl(&["edit-config", "--force", "-p", "max_connections=110"]);
    out.code(0);
    assert_eq!(out.stderr, "Needs a restart: max_connections\n");
    assert!(
        out.stdout.ends_with("Configuration changed\n") && !out.stdout.contains("Needs a"),
        "{}",
        out.stdout
    );
    let pending = || {
        let l = patctl(&["list"]).stdout;
        l.contains("Pending restart") && l.matches(" * ").count() == 3
    };
    wait_until(
        "all members pending restart",
        Duration::from_secs(40),
        pending,
    );
    assert_eq!(
        rest_get(api_port(1), "patroni").unwrap()["pending_restart"],
        true
    );
    restore.put_back();
    wait_until("pending restart cleared", Duration::from_secs(40), || {
        !patctl(&["list"]).stdout.contains("Pending restart")
    });
}

#[test]
fn diff_on_a_terminal_is_coloured_and_needs_no_pager() {
    let Some(_g) = read_lock() else { return };
    wait_healthy(Duration::from_secs(60));
    let cur = current_config()["loop_wait"].as_i64().unwrap();
    let run_tty = |env: &str| {
        let cmd = format!(
            "env -u NO_COLOR {env} {} -c {} edit-config -s loop_wait={} </dev/null",
            env!("CARGO_BIN_EXE_patctl"),
            config(),
            cur + 1
        );
        let out = Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .stdin(Stdio::null())
            .output()
            .expect("script(1) from util-linux");
        String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")
    };
    let want = format!(
        "\x1b[31m-loop_wait: {cur}\x1b[0m\n\x1b[32m+loop_wait: {}\x1b[0m\n",
        cur + 1
    );
    for env in ["PAGER=cat", "PATH=/nonexistent PAGER=nosuch"] {
        let out = run_tty(env);
        assert!(out.contains(&want), "{env}: {out:?}");
        assert!(
            out.contains("Apply these changes? [y/N]: Aborted!"),
            "{env}: {out:?}"
        );
    }
}

mod pause;
