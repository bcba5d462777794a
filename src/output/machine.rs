//! Machine output (`-o json|yaml`): one versioned envelope for every command, patctl's own addition
//! (patronictl has only `-f json|yaml` for a few reads, and that format stays untouched).
//!
//! ```text
//! apiVersion: patctl/v1
//! kind: <Kind>            # one per command, e.g. ClusterList, Switchover
//! metadata: {observedAt: <RFC 3339>, command: <name>, warnings: [...]}
//! data: {...}             # on success, or
//! error: {category, exitCode, retrySafe, message, hint, causes}
//! ```
//!
//! In machine mode stdout carries the envelope and nothing else: the human text a command prints
//! goes to stderr instead ([`super::Ui::out`]), no prompt is ever shown (a command that would ask
//! fails with exit 2, see [`super::Ui::confirm`]), and warnings are collected into `metadata`.
//! The schema of each kind is committed under `schemas/`.

use serde_json::{json, Map, Value};

use crate::error::{Error, Exit};

/// The envelope's `apiVersion`.
pub const API_VERSION: &str = "patctl/v1";

/// `-o/--output`: the machine formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Machine {
    /// One JSON document (pretty-printed, UTF-8).
    Json,
    /// One YAML document.
    Yaml,
}

/// The envelope of a success: `kind` names the shape of `data`.
pub fn success(kind: &str, command: &str, warnings: &[String], data: Value) -> Value {
    json!({
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": metadata(command, warnings),
        "data": data,
    })
}

/// The envelope of a failure: the command's kind with `error` instead of `data`, and when the
/// command got far enough to say what it did (a switchover whose wait timed out), that as `data`.
pub fn failure(
    kind: &str,
    command: &str,
    warnings: &[String],
    e: &Error,
    partial: Option<Value>,
) -> Value {
    let mut env = json!({
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": metadata(command, warnings),
        "error": error_body(e),
    });
    if let Some(p) = partial {
        env["data"] = p;
    }
    env
}

fn metadata(command: &str, warnings: &[String]) -> Value {
    json!({
        "observedAt": now_rfc3339(),
        "command": command,
        "warnings": warnings,
    })
}

/// This moment in RFC 3339 with milliseconds and the local offset.
pub fn now_rfc3339() -> String {
    chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
}

/// The `error` object: what a script needs to decide what to do next.
pub fn error_body(e: &Error) -> Value {
    let mut causes = crate::error::causes(e);
    if !causes.is_empty() {
        causes.remove(0); // the message itself
    }
    let mut body = Map::new();
    body.insert("category".into(), category(e).into());
    body.insert("exitCode".into(), e.exit.code().into());
    body.insert("retrySafe".into(), retry_safe(e).into());
    body.insert(
        "message".into(),
        if e.message.is_empty() {
            "the command failed (see its data and stderr)".into()
        } else {
            e.message.clone().into()
        },
    );
    body.insert(
        "hint".into(),
        e.hint.clone().map(Value::String).unwrap_or(Value::Null),
    );
    body.insert("causes".into(), causes.into());
    Value::Object(body)
}

/// The error's category, one word per exit code (an abort at a prompt has its own).
pub fn category(e: &Error) -> &'static str {
    if e.is_aborted() {
        return "aborted";
    }
    match e.exit {
        Exit::Success => "none",
        Exit::Failure => "failed",
        Exit::Usage => "usage",
        Exit::Unreachable => "unreachable",
        Exit::Conflict => "conflict",
        Exit::Unknown => "unknown",
        Exit::WaitLeader | Exit::WaitRejoin | Exit::WaitReplicas => "wait-timeout",
        Exit::Unhealthy => "unhealthy",
    }
}

/// Whether running the same command again cannot repeat or undo something this attempt did: true
/// when nothing was sent (unreachable before the request, a lost compare-and-swap), false when the
/// input must change first or the outcome of a request is unknown.
pub fn retry_safe(e: &Error) -> bool {
    match e.exit {
        Exit::Unreachable | Exit::Conflict => true,
        Exit::Success
        | Exit::Failure
        | Exit::Usage
        | Exit::Unknown
        | Exit::WaitLeader
        | Exit::WaitRejoin
        | Exit::WaitReplicas
        | Exit::Unhealthy => false,
    }
}

/// The envelope as text in the chosen format, ending with a newline.
pub fn render(envelope: &Value, format: Machine) -> String {
    match format {
        Machine::Json => {
            let mut s = serde_json::to_string_pretty(envelope).unwrap_or_else(|_| "{}".into());
            s.push('\n');
            s
        }
        Machine::Yaml => crate::py::yaml_dump::dump(envelope),
    }
}

/// The kind and command name each command reports under.
pub fn kind_of(command: &str) -> &'static str {
    match command {
        "list" => "ClusterList",
        "topology" => "Topology",
        "history" => "History",
        "show-config" => "ClusterConfig",
        "edit-config" => "ConfigEdit",
        "version" => "Version",
        "dsn" => "Dsn",
        "query" => "QueryResult",
        "switchover" => "Switchover",
        "failover" => "Failover",
        "restart" => "Restart",
        "reload" => "Reload",
        "reinit" => "Reinit",
        "pause" => "Pause",
        "resume" => "Resume",
        "flush" => "Flush",
        "remove" => "Remove",
        "events" => "Event",
        "top" => "Top",
        "demote-cluster" => "DemoteCluster",
        "promote-cluster" => "PromoteCluster",
        _ => "Result",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_carry_version_kind_metadata_and_one_of_data_or_error() {
        let ok = success(
            "ClusterList",
            "list",
            &["w".into()],
            json!({"clusters": []}),
        );
        assert_eq!(ok["apiVersion"], API_VERSION);
        assert_eq!(ok["kind"], "ClusterList");
        assert_eq!(ok["metadata"]["warnings"][0], "w");
        assert!(chrono::DateTime::parse_from_rfc3339(
            ok["metadata"]["observedAt"].as_str().unwrap()
        )
        .is_ok());
        assert!(ok.get("error").is_none());

        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let e = Error::unreachable("DCS down").with_source(io);
        let bad = failure("ClusterList", "list", &[], &e, None);
        assert!(bad.get("data").is_none());
        assert_eq!(bad["error"]["category"], "unreachable");
        assert_eq!(bad["error"]["exitCode"], 3);
        assert_eq!(bad["error"]["retrySafe"], true);
        assert_eq!(bad["error"]["causes"], json!(["refused"]));
        assert_eq!(category(&Error::aborted()), "aborted");
        assert!(!retry_safe(&Error::unknown("?")));
    }

    #[test]
    fn yaml_and_json_render_the_same_document() {
        let env = success("Dsn", "dsn", &[], json!({"dsn": "host=x"}));
        let j: Value = serde_json::from_str(&render(&env, Machine::Json)).unwrap();
        assert_eq!(j, env);
        let y = crate::py::yaml_load::load(&render(&env, Machine::Yaml)).unwrap();
        assert_eq!(y["data"], env["data"]);
    }
}
