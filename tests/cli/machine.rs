//! Machine output (`-o json|yaml`) of the real binary: one envelope on stdout and nothing else,
//! valid against `schemas/<Kind>.schema.json`, and on the sandbox the same facts patronictl shows
//! for the same cluster (history, show-config, version, dsn, query, reload, pause/resume).

use serde_json::{json, Value};

use crate::common::*;
use crate::schema::{assert_valid, parse_json, untimed};

/// `patctl -o json ARGS` on the sandbox: the exit code checked, the envelope validated.
#[track_caller]
fn envelope(kind: &str, args: &[&str], code: i32) -> Value {
    let out = patctl(&[&["-o", "json"][..], args].concat());
    out.code(code);
    let env = parse_json(&out.stdout);
    assert_valid(kind, &env);
    env
}

#[test]
fn history_matches_patronictl() {
    let Some(_g) = read_lock() else { return };
    // A scratch scope with a history of its own (the sandbox's may be empty): a line as Patroni 4
    // writes it, and an old one without timestamp and new leader.
    let scope = scratch_scope("machine-history");
    let base = format!("/service/{scope}");
    with_prefix_removed(&base, || {
        etcd_put(
            &format!("{base}/history"),
            r#"[[1,25165984,"no recovery target specified","2026-11-25T09:06:12.571482+00:00","node1"],[2,50331808,"no recovery target specified"]]"#,
        );
        let env = envelope("History", &["history", &scope], 0);
        let theirs = patronictl(&["history", &scope, "-f", "json"]);
        theirs.code(0);
        let theirs: Vec<Value> = serde_json::from_str(&theirs.stdout).unwrap();
        let ours = env["data"]["entries"].as_array().unwrap();
        assert_eq!(ours.len(), 2);
        assert_eq!(ours.len(), theirs.len());
        for (o, t) in ours.iter().zip(&theirs) {
            assert_eq!(o["timeline"], t["TL"]);
            assert_eq!(o["lsn"], t["LSN"]);
            assert_eq!(o["reason"], t["Reason"]);
            let at = |v: &Value| {
                v.as_str()
                    .map(|s| chrono::DateTime::parse_from_rfc3339(s).unwrap())
            };
            let blank = |v: &Value| v.as_str().is_none_or(str::is_empty);
            if blank(&t["Timestamp"]) {
                assert_eq!(o["timestamp"], Value::Null);
            } else {
                assert_eq!(at(&o["timestamp"]), at(&t["Timestamp"]));
            }
            if blank(&t["New Leader"]) {
                assert_eq!(o["newLeader"], Value::Null);
            } else {
                assert_eq!(o["newLeader"], t["New Leader"]);
            }
        }
    });
}

#[test]
fn show_config_is_what_patronictl_shows() {
    let Some(_g) = read_lock() else { return };
    let (env, theirs) = {
        let env = envelope("ClusterConfig", &["show-config"], 0);
        (env, patronictl(&["show-config"]))
    };
    theirs.code(0);
    let theirs = patctl::py::yaml_load::load(&theirs.stdout).unwrap();
    assert_eq!(env["data"]["config"], theirs);
    let yaml = patctl(&["-o", "yaml", "show-config"]);
    let from_yaml = patctl::py::yaml_load::load(&yaml.stdout).unwrap();
    assert_eq!(untimed(&from_yaml)["data"], env["data"]);
}

#[test]
fn version_and_dsn_match_patronictl() {
    let Some(_g) = read_lock() else { return };
    let scope = env("SANDBOX_SCOPE");
    let env_v = envelope("Version", &["version", &scope], 0);
    let theirs = patronictl(&["version", &scope]);
    for m in env_v["data"]["members"].as_array().unwrap() {
        let line = format!(
            "{}: Patroni {} PostgreSQL {}",
            m["member"].as_str().unwrap(),
            m["patroniVersion"].as_str().unwrap(),
            m["postgresVersion"].as_str().unwrap()
        );
        assert!(
            theirs.stdout.contains(&line),
            "{line} not in\n{}",
            theirs.stdout
        );
    }
    let env_d = envelope("Dsn", &["dsn"], 0);
    assert_eq!(
        env_d["data"]["dsn"].as_str().unwrap(),
        patronictl(&["dsn"]).stdout.trim_end()
    );
}

#[test]
fn query_rows_match_patronictl() {
    let Some(_g) = read_lock() else { return };
    let sql = "select 1 as one, 'x' as two, null as three, 2.5::float8 as four";
    let pg = [("PGPASSWORD", "postgres")];
    let query = |tool: Tool, extra: &[&str]| {
        let args = [&["query", "-U", "postgres", "-c", sql][..], extra].concat();
        with_config(&config(), &args, |full| tool.run(full, None, &pg))
    };
    let ours = query(Tool::Patctl, &["-o", "json"]);
    ours.code(0);
    let env = parse_json(&ours.stdout);
    assert_valid("QueryResult", &env);
    assert_eq!(
        env["data"]["columns"],
        json!(["one", "two", "three", "four"])
    );
    let theirs = query(Tool::Patronictl, &["--format", "json"]);
    theirs.code(0);
    let theirs: Vec<Value> = serde_json::from_str(&theirs.stdout).unwrap();
    assert_eq!(env["data"]["rows"], json!([[1, "x", null, 2.5]]));
    assert_eq!(
        theirs,
        vec![json!({"one": 1, "two": "x", "three": null, "four": 2.5})]
    );
}

#[test]
fn reload_reports_what_patronictl_prints_per_member() {
    let Some(_g) = write_lock() else { return };
    let scope = env("SANDBOX_SCOPE");
    let env = envelope("Reload", &["reload", &scope, "--force"], 0);
    let theirs = patronictl(&["reload", &scope, "--force"]);
    let members = env["data"]["members"].as_array().unwrap();
    assert_eq!(members.len(), 3);
    for m in members {
        assert_eq!(m["outcome"], "succeeded");
        // 200: nothing to reload; 202: accepted, applied within loop_wait.
        assert!(matches!(m["httpStatus"].as_u64(), Some(200 | 202)), "{m}");
        let line = m["message"].as_str().unwrap();
        assert!(
            theirs.stdout.contains(line),
            "{line} not in\n{}",
            theirs.stdout
        );
    }
}

#[test]
fn pause_and_resume_with_wait() {
    let Some(_g) = write_lock() else { return };
    let env = envelope("Pause", &["pause", "--wait"], 0);
    assert_eq!(env["data"]["members"][0]["outcome"], "succeeded");
    assert_eq!(env["data"]["wait"]["pending"], json!([]));
    let shown = patronictl(&["show-config"]);
    assert!(shown.stdout.contains("pause: true"), "{}", shown.stdout);
    let env = envelope("Resume", &["resume", "--wait"], 0);
    assert_eq!(env["data"]["wait"]["pending"], json!([]));
    let again = envelope("Resume", &["resume"], 1);
    assert_eq!(again["error"]["message"], "Cluster is not paused");
}

#[test]
fn a_command_that_would_prompt_refuses_and_changes_nothing() {
    let Some(_g) = read_lock() else { return };
    let scope = env("SANDBOX_SCOPE");
    let out = patctl_stdin(&["-o", "json", "remove", &scope], &format!("{scope}\n"));
    out.code(2);
    let env = parse_json(&out.stdout);
    assert_valid("Remove", &env);
    assert_eq!(env["error"]["category"], "usage");
    assert!(!out.stdout.contains("to remove: "), "no prompt on stdout");
    assert!(out.stderr.contains("| node1 "), "the table goes to stderr");
    let listed = patronictl(&["list", "-f", "json"]);
    assert_eq!(
        serde_json::from_str::<Value>(&listed.stdout)
            .unwrap()
            .as_array()
            .map(Vec::len),
        Some(3),
        "the cluster is still there"
    );
}
