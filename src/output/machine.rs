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
//!
//! Writes report each member's outcome in one shape ([`member_outcome`]: `succeeded`, `failed` or
//! `unknown`, with Patroni's status and answer); a command reports its data with
//! [`super::Ui::emit`], or [`super::Ui::emit_result`] when it may fail after doing something, so
//! that what it did stays beside the error ([`failure`], which then says whether a retry is safe).

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
    let mut body = error_body(e);
    if partial.as_ref().is_some_and(something_done) {
        // e.g. a reload that reached one member and not the next: again would repeat the first.
        body["retrySafe"] = false.into();
    }
    let mut env = json!({
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": metadata(command, warnings),
        "error": body,
    });
    if let Some(p) = partial {
        env["data"] = p;
    }
    env
}

/// Whether a partial result says that something was (or may have been) done: a member's request
/// that succeeded or whose outcome is unknown, or such a DCS write.
fn something_done(partial: &Value) -> bool {
    let done = |o: &Value| matches!(o["outcome"].as_str(), Some("succeeded" | "unknown"));
    partial["members"]
        .as_array()
        .is_some_and(|ms| ms.iter().any(done))
        || done(&partial["dcsWrite"])
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

/// A timestamp Patroni wrote (Python's `isoformat()`, e.g. `2026-12-01T10:00:00.123456+00:00`) as
/// RFC 3339, or `null` when it has no offset or does not parse (a naive time cannot be placed).
pub fn rfc3339_of(text: &str) -> Value {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .map(|t| Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)))
        .unwrap_or(Value::Null)
}

/// How one member's request ended, as machine output reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Patroni accepted the request (or there was nothing to do).
    Succeeded,
    /// Patroni rejected it, or it was never sent (the member could not be reached).
    Failed,
    /// It was sent but no answer came in time: it may or may not have been applied.
    Unknown,
}

impl Outcome {
    /// `succeeded`, `failed` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::Unknown => "unknown",
        }
    }

    /// The outcome an exit code stands for: 0 succeeded, 5 unknown, anything else failed.
    pub fn of_exit(exit: Exit) -> Outcome {
        match exit {
            Exit::Success => Outcome::Succeeded,
            Exit::Unknown => Outcome::Unknown,
            _ => Outcome::Failed,
        }
    }
}

/// One member's outcome, the shape every write command reports per member (`MemberOutcome` in the
/// schemas): `{member, outcome, httpStatus, response, message}`. `response` is Patroni's answer,
/// parsed when it is JSON and as text otherwise, `null` when none came; `message` is what patctl
/// printed for it (or why no answer came).
pub fn member_outcome(
    member: &str,
    outcome: Outcome,
    http_status: Option<u16>,
    response: Option<&str>,
    message: Option<String>,
) -> Value {
    let response = response.map_or(Value::Null, |body| {
        serde_json::from_str::<Value>(body).unwrap_or_else(|_| Value::String(body.to_string()))
    });
    json!({
        "member": member,
        "outcome": outcome.as_str(),
        "httpStatus": http_status,
        "response": response,
        "message": message,
    })
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
            "the command failed: see data (each member's outcome) and stderr".into()
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
        Exit::WaitLeader | Exit::WaitRejoin | Exit::WaitReplicas | Exit::NotReached => {
            "wait-timeout"
        }
        Exit::Unhealthy => "unhealthy",
        Exit::SiteStopped => "stopped",
    }
}

/// Whether running the same command again cannot repeat or undo something this attempt did: true
/// when nothing was sent (unreachable before the request, a lost compare-and-swap), false when the
/// input must change first or the outcome of a request is unknown. [`failure`] also makes it false
/// when the partial result shows a member's request that succeeded or may have.
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
        | Exit::Unhealthy
        | Exit::SiteStopped
        | Exit::NotReached => false,
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
        Machine::Yaml => match envelope {
            // The envelope's own keys in the order `-o json` keeps (apiVersion, kind, metadata,
            // data or error), not sorted as PyYAML sorts a mapping: one single-key document body
            // per key, each laid out as the dumper lays out that key in a mapping.
            Value::Object(m) if !m.is_empty() => m
                .iter()
                .map(|(k, v)| {
                    let mut one = Map::new();
                    one.insert(k.clone(), v.clone());
                    crate::py::yaml_dump::dump(&Value::Object(one))
                })
                .collect(),
            other => crate::py::yaml_dump::dump(other),
        },
    }
}

/// Kinds a command picks itself with [`super::Ui::set_kind`] (one shape per flag), beside
/// [`kind_of`]'s one per command.
pub const CHOSEN_KINDS: [&str; 1] = ["SwitchoverPlan"];

/// The kind and command name each command reports under.
pub fn kind_of(command: &str) -> &'static str {
    match command {
        "check" => "CheckResult",
        "list" => "ClusterList",
        "topology" => "Topology",
        "history" => "History",
        "show-config" => "ClusterConfig",
        "edit-config" => "ConfigEdit",
        "version" => "Version",
        "doctor" => "DoctorReport",
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
        "wait" => "WaitResult",
        "rollout" => "RolloutReport",
        "demote-cluster" => "DemoteCluster",
        "promote-cluster" => "PromoteCluster",
        "context list" => "ContextList",
        "context show" => "Context",
        "context use" => "ContextUse",
        "site status" => "SiteStatus",
        "site switchover" => "SiteSwitchoverReport",
        "site failover" => "SiteFailover",
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
    fn the_envelope_lists_the_whole_chain_and_keeps_the_hint() {
        use crate::error::{Cause, Exit};
        let io = std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "refused (os error 111)",
        );
        let read = Error::unreachable("DCS unreachable")
            .with_source(Cause::of("connection refused", io))
            .with_hint("check etcd");
        let e = read.wrap(Exit::Unknown, "DCS unreachable; the outcome is unknown");
        let body = error_body(&e);
        assert_eq!(
            body["causes"],
            json!([
                "DCS unreachable",
                "connection refused",
                "refused (os error 111)"
            ])
        );
        assert_eq!(body["hint"], "check etcd");
        assert_eq!(body["exitCode"], 5);
        assert_eq!(body["message"], "DCS unreachable; the outcome is unknown");
    }

    #[test]
    fn a_partial_result_with_a_member_done_is_not_safe_to_retry() {
        let e = Error::unreachable("node2 unreachable");
        let done = json!({"members": [
            member_outcome("node1", Outcome::Succeeded, Some(200), Some("{}"), None),
            member_outcome("node2", Outcome::Failed, None, None, Some("refused".into())),
        ]});
        let env = failure("Reload", "reload", &[], &e, Some(done));
        assert_eq!(env["error"]["retrySafe"], false);
        assert_eq!(env["data"]["members"][0]["response"], json!({}));
        let none = json!({"members": [
            member_outcome("node2", Outcome::Failed, None, None, None),
        ]});
        let env = failure("Reload", "reload", &[], &e, Some(none));
        assert_eq!(env["error"]["retrySafe"], true);
        let dcs = json!({"members": [], "dcsWrite": {"outcome": "unknown"}});
        let env = failure("Flush", "flush", &[], &e, Some(dcs));
        assert_eq!(env["error"]["retrySafe"], false);
        assert_eq!(Outcome::of_exit(Exit::Unknown), Outcome::Unknown);
        assert_eq!(
            rfc3339_of("2026-11-25T09:06:12.5+00:00"),
            "2026-11-25T09:06:12.500+00:00"
        );
        assert_eq!(rfc3339_of("2026-11-25 09:06:12"), Value::Null);
    }

    #[test]
    fn yaml_and_json_render_the_same_document() {
        let env = success("Dsn", "dsn", &[], json!({"dsn": "host=x"}));
        let j: Value = serde_json::from_str(&render(&env, Machine::Json)).unwrap();
        assert_eq!(j, env);
        let text = render(&env, Machine::Yaml);
        let y = crate::py::yaml_load::load(&text).unwrap();
        assert_eq!(y, env);
        // The envelope's keys in JSON's order, not sorted.
        let top: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with(' '))
            .map(|l| l.split(':').next().unwrap())
            .collect();
        assert_eq!(top, ["apiVersion", "kind", "metadata", "data"]);
    }
}
