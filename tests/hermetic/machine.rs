//! Machine output (`-o json|yaml`) of the reads (`history`, `show-config`, `version`, `dsn`,
//! `query`), the error envelopes (unreachable DCS, a prompt refused) and the schema files
//! themselves: every envelope is validated against `schemas/<Kind>.schema.json`.

use serde_json::{json, Value};

use crate::harness::*;
use crate::schema::{assert_valid, errors, parse_json, schema_dir, untimed};

/// Run with `-o json`, check the exit code, and return the envelope validated against its schema.
#[track_caller]
pub fn envelope(w: &World, kind: &str, args: &[&str], code: u8) -> Value {
    let mut argv = vec!["-o", "json"];
    argv.extend_from_slice(args);
    let out = w.run(&argv);
    out.code(code);
    let env = parse_json(&out.stdout);
    assert_valid(kind, &env);
    env
}

#[test]
fn every_schema_is_a_valid_draft_2020_12_schema_for_its_kind() {
    let mut seen = 0;
    for entry in std::fs::read_dir(schema_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let kind = name
            .strip_suffix(".schema.json")
            .unwrap_or_else(|| panic!("schemas/{name}: not named <Kind>.schema.json"));
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("schemas/{name} is not JSON: {e}"));
        if let Err(e) = jsonschema::draft202012::meta::validate(&schema) {
            panic!("schemas/{name} is not a valid draft 2020-12 schema: {e}");
        }
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "schemas/{name}"
        );
        assert_eq!(
            schema["properties"]["kind"]["const"], kind,
            "schemas/{name}"
        );
        assert_eq!(
            schema["properties"]["apiVersion"]["const"],
            patctl::output::machine::API_VERSION,
            "schemas/{name}"
        );
        // The schema must reject what is not its kind, so a test passing is not an accident.
        assert!(
            !errors(&schema, &json!({"apiVersion": "patctl/v1", "kind": "Nope"})).is_empty(),
            "schemas/{name} accepts anything"
        );
        seen += 1;
    }
    assert!(seen > 0, "no schema files under {}", schema_dir().display());
}

#[test]
fn every_command_has_a_kind_and_a_schema_file() {
    let mut missing = Vec::new();
    // A command with subcommands reports under its own kind (`check`) or, when its subcommands
    // differ in shape, under "parent child" (`context list`).
    let mut names = Vec::new();
    for sub in patctl::command().get_subcommands() {
        let own = patctl::output::machine::kind_of(sub.get_name()) != "Result";
        if sub.has_subcommands() && !own {
            names.extend(
                sub.get_subcommands()
                    .map(|s| format!("{} {}", sub.get_name(), s.get_name())),
            );
        } else {
            names.push(sub.get_name().to_string());
        }
    }
    for name in names {
        let kind = patctl::output::machine::kind_of(&name);
        assert_ne!(kind, "Result", "{name} has no kind in kind_of");
        let present = schema_dir().join(format!("{kind}.schema.json")).is_file();
        if !present {
            missing.push(format!("{name} ({kind})"));
        }
    }
    assert!(
        missing.is_empty(),
        "no schema file for: {}",
        missing.join(", ")
    );
}

#[test]
fn history_entries_in_bytes_and_rfc3339() {
    let w = World::demo_unreachable();
    let env = envelope(&w, "History", &["history"], 0);
    assert_eq!(env["metadata"]["command"], "history");
    assert_eq!(
        env["data"],
        json!({"cluster": "demo", "group": null, "entries": [{
            "timeline": 1,
            "lsn": 25165984,
            "reason": "no recovery target specified",
            "timestamp": "2026-11-25T09:06:12.571482+00:00",
            "newLeader": "node1",
            "raw": [1, 25165984, "no recovery target specified", "2026-11-25T09:06:12.571482+00:00", "node1"],
        }]})
    );
    // An old line without timestamp and leader, and a naive time, still fit the schema.
    w.dcs.set(
        &World::key("history"),
        r#"[[1,100,"no recovery target specified"],[2,200,"x","2026-11-25 09:06:12",null]]"#,
    );
    let env = envelope(&w, "History", &["history"], 0);
    assert_eq!(env["data"]["entries"][0]["timestamp"], Value::Null);
    assert_eq!(env["data"]["entries"][1]["timestamp"], Value::Null);
    assert_eq!(env["data"]["entries"][1]["newLeader"], Value::Null);
}

#[test]
fn yaml_is_the_same_document_as_json() {
    let w = World::demo_unreachable();
    for args in [
        &["history"][..],
        &["show-config"],
        &["dsn"],
        &["version"],
        &["reload", "demo", "--force"],
    ] {
        let json_out = w.run(&[&["-o", "json"][..], args].concat());
        let yaml_out = w.run(&[&["-o", "yaml"][..], args].concat());
        assert_eq!(json_out.code, yaml_out.code, "{args:?}");
        let from_yaml = patctl::py::yaml_load::load(&yaml_out.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?}: -o yaml is not YAML ({e:?}):\n{}",
                yaml_out.stdout
            )
        });
        assert_eq!(
            untimed(&from_yaml),
            untimed(&parse_json(&json_out.stdout)),
            "{args:?}"
        );
    }
}

#[test]
fn show_config_is_the_config_key() {
    let w = World::demo_unreachable();
    let env = envelope(&w, "ClusterConfig", &["show-config"], 0);
    let stored: Value = serde_json::from_str(&w.get("config").unwrap()).unwrap();
    assert_eq!(env["data"]["config"], stored);
    assert_eq!(env["data"]["valid"], true);
    // The human text is still written, to stderr: stdout is the envelope's alone.
    let out = w.run(&["-o", "json", "show-config"]);
    assert!(out.stderr.contains("loop_wait: 10\n"), "{}", out.stderr);
    let empty = World::empty();
    let env = envelope(&empty, "ClusterConfig", &["show-config"], 0);
    assert_eq!(env["data"]["config"], Value::Null);
}

#[test]
fn version_without_a_cluster_runs_offline_and_still_emits() {
    let out = World::empty().run(&["-o", "json", "version"]);
    out.code(0);
    let env = parse_json(&out.stdout);
    assert_valid("Version", &env);
    assert_eq!(env["data"]["ctlVersion"], "4.1.5");
    assert_eq!(env["data"]["patctlVersion"], env!("CARGO_PKG_VERSION"));
    assert_eq!(env["data"]["cluster"], Value::Null);
    assert_eq!(out.stderr, "patronictl version 4.1.5\n");
}

#[test]
fn version_of_each_member_and_of_an_unreachable_one() {
    let api = fake_api(&[Reply::Status(
        200,
        r#"{"state":"running","server_version":150004,"patroni":{"version":"4.1.5","scope":"demo"}}"#,
    )]);
    let dead = dead_api();
    let w = World::demo([&api.url(), &api.url(), &dead]);
    let env = envelope(&w, "Version", &["version", "demo"], 3);
    assert_eq!(env["error"]["category"], "unreachable");
    let members = env["data"]["members"].as_array().unwrap();
    assert_eq!(members.len(), 3);
    assert_eq!(members[0]["patroniVersion"], "4.1.5");
    assert_eq!(members[0]["postgresVersion"], "15.4");
    assert_eq!(members[0]["error"], Value::Null);
    assert_eq!(members[2]["patroniVersion"], Value::Null);
    assert!(members[2]["error"]
        .as_str()
        .unwrap()
        .contains("cannot connect"));
}

#[test]
fn dsn_of_the_leader_and_of_a_member() {
    let w = World::demo_unreachable();
    let env = envelope(&w, "Dsn", &["dsn"], 0);
    assert_eq!(env["data"]["member"], "node1");
    assert_eq!(env["data"]["dsn"], "host=127.0.0.1 port=5433");
    assert_eq!(env["data"]["params"]["dbname"], "postgres");
    let env = envelope(&w, "Dsn", &["dsn", "-m", "node3"], 0);
    assert_eq!(env["data"]["dsn"], "host=127.0.0.1 port=5435");
    let env = envelope(&w, "Dsn", &["dsn", "-m", "nobody"], 1);
    assert_eq!(env["error"]["message"], "Can not find a suitable member");
    assert!(env.get("data").is_none());
}

#[test]
fn query_that_cannot_connect_is_an_error_envelope_with_the_member() {
    let w = World::empty();
    let port = closed_port();
    w.dcs.set(&World::key("leader"), "node1");
    w.dcs.set(
        &World::key("members/node1"),
        &format!(r#"{{"conn_url":"postgres://127.0.0.1:{port}/postgres","api_url":"http://127.0.0.1:1/patroni","state":"running","role":"primary"}}"#),
    );
    let env = envelope(&w, "QueryResult", &["query", "-c", "select 1"], 3);
    assert_eq!(env["error"]["category"], "unreachable");
    assert!(env["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("ERROR, SQLSTATE: "));
    assert_eq!(
        env["data"],
        json!({"cluster": "demo", "member": "node1", "columns": null, "rows": []})
    );
}

#[test]
fn an_unreachable_dcs_is_exit_3_and_safe_to_retry() {
    let w = World::demo_unreachable();
    for (kind, args) in [
        ("History", &["history"][..]),
        ("ClusterConfig", &["show-config"]),
        ("Dsn", &["dsn"]),
        ("Reload", &["reload", "demo", "--force"]),
        ("Pause", &["pause"]),
    ] {
        let out =
            w.run_without_dcs(&[&["-o", "json", "--request-timeout", "1"][..], args].concat());
        out.code(3);
        let env = parse_json(&out.stdout);
        assert_valid(kind, &env);
        assert_eq!(env["error"]["category"], "unreachable", "{args:?}");
        assert_eq!(env["error"]["exitCode"], 3);
        assert_eq!(env["error"]["retrySafe"], true);
        let message = env["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("127.0.0.1:1"),
            "names the endpoint: {message}"
        );
        assert!(out.stderr.contains("Error: "), "{}", out.stderr);
    }
}

#[test]
fn an_unreachable_dcs_names_each_endpoint_tried_in_the_causes_and_the_hint() {
    let w = World::demo_unreachable();
    for (url, endpoint) in [
        ("etcd3://127.0.0.1:1", "http://127.0.0.1:1"),
        ("etcd://127.0.0.1:1", "http://127.0.0.1:1"),
        ("zookeeper://127.0.0.1:1", "127.0.0.1:1"),
    ] {
        let out = w.run_without_dcs(&["-d", url, "list", "demo", "-o", "json"]);
        out.code(3);
        let env = parse_json(&out.stdout);
        assert_valid("ClusterList", &env);
        let error = &env["error"];
        let causes = error["causes"].as_array().unwrap();
        assert!(
            causes[0]
                .as_str()
                .unwrap()
                .starts_with(&format!("{endpoint}: ")),
            "{url}: {causes:?}"
        );
        let hint = error["hint"].as_str().unwrap();
        assert!(
            hint.starts_with(&format!("tried {endpoint} (connection refused); check ")),
            "{url}: {hint}"
        );
        // Human output: the one error line, then the hint, on stderr.
        let human = w.run_without_dcs(&["-d", url, "list", "demo"]);
        human.code(3);
        assert_eq!(human.stdout, "");
        assert_eq!(
            human.stderr,
            format!("Error: DCS unreachable at {endpoint} (connection refused)\nHint: {hint}\n")
        );
    }
}

#[test]
fn a_command_that_would_prompt_fails_with_exit_2_and_one_envelope() {
    let api = fake_api(&[Reply::Status(202, "")]);
    let w = World::demo_served_by(&api);
    for (kind, args) in [
        ("Reload", &["reload", "demo"][..]),
        ("Reinit", &["reinit", "demo"]),
        ("Flush", &["flush", "demo", "restart"]),
        ("Remove", &["remove", "demo"]),
        ("DemoteCluster", &["demote-cluster", "--host", "h"]),
    ] {
        let out = w.run_stdin(&[&["-o", "json"][..], args].concat(), "y\n");
        out.code(2);
        let env = parse_json(&out.stdout);
        assert_valid(kind, &env);
        assert_eq!(env["error"]["category"], "usage", "{args:?}");
        assert_eq!(env["error"]["retrySafe"], false);
        assert!(
            env["error"]["message"]
                .as_str()
                .unwrap()
                .contains("never prompts"),
            "{env:#}"
        );
    }
    assert!(
        api.requests().is_empty(),
        "nothing may be sent: {:?}",
        api.requests()
    );
    assert!(w.get("leader").is_some(), "remove removed nothing");
}
