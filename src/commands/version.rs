//! `version`, mirroring patronictl's `version`: the ctl version, then each member's Patroni and
//! PostgreSQL versions from `GET <api_url>`. The members are asked in parallel and printed in DCS
//! order; a member that cannot answer gets a `failed to get version` line, as in patronictl, and
//! patctl then exits non-zero (3 when a member was unreachable, else 1) instead of 0.

use crate::http_client::Method;
use clap::Args;
use serde_json::Value;

use super::{get_all_members, Role};
use crate::api::{FailureKind, Response};
use crate::context::Context;
use crate::error::{Error, Exit, Result};
use crate::py::repr::py_str;

/// The patronictl release whose behaviour patctl implements.
pub const PATRONICTL_VERSION: &str = "4.1.5";

/// `version [CLUSTER_NAME] [MEMBER_NAMES]...`
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Cluster name
    pub cluster_name: Option<String>,
    /// Members to ask
    pub member_names: Vec<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
}

/// The first line `version` prints, as patronictl prints it.
pub fn own_version_line() -> String {
    format!("patronictl version {PATRONICTL_VERSION}")
}

/// The machine output of `version`: the ctl versions, and each member's answer (`cluster` and
/// `members` are `null` and empty without a cluster).
pub fn version_data(cluster: Option<&str>, members: Vec<Value>) -> Value {
    serde_json::json!({
        "ctlVersion": PATRONICTL_VERSION,
        "patctlVersion": env!("CARGO_PKG_VERSION"),
        "cluster": cluster,
        "members": members,
    })
}

/// Run `version`.
pub async fn cmd_version(ctx: &mut Context<'_>, args: VersionArgs) -> Result<()> {
    ctx.ui.line(&own_version_line());
    let Some(name) = args.cluster_name.filter(|n| !n.is_empty()) else {
        ctx.ui.emit(version_data(None, Vec::new()));
        return Ok(());
    };
    ctx.ui.line("");
    let cluster = ctx.cluster(&name, args.group).await?;
    let members: Vec<_> = get_all_members(&cluster, args.group, Role::Any)
        .into_iter()
        .filter(|m| m.api_url().is_some())
        .filter(|m| args.member_names.is_empty() || args.member_names.contains(&m.name))
        .collect();
    let api = ctx.api()?;
    let answers = super::fanout::join_all(
        members
            .iter()
            .map(|m| api.request(m, Method::GET, "", None, None)),
    )
    .await;
    let mut outcomes = Vec::new();
    let mut entries = Vec::new();
    for (m, answer) in members.iter().zip(answers) {
        entries.push(member_entry(&m.name, answer.as_ref().ok()));
        let line = match answer.map_err(|f| (f.kind, f.message)).and_then(describe) {
            Ok(text) => {
                outcomes.push(Exit::Success);
                format!("{}: {text}", m.name)
            }
            Err((kind, why)) => {
                if let Some(Value::Object(e)) = entries.last_mut() {
                    e.insert("error".into(), Value::String(why.clone()));
                }
                // A GET changes nothing: no answer in time means unreachable, not "outcome unknown".
                outcomes.push(match kind {
                    FailureKind::Connect | FailureKind::Timeout => Exit::Unreachable,
                    _ => Exit::Failure,
                });
                format!("{}: failed to get version: {why}", m.name)
            }
        };
        ctx.ui.line(&line);
    }
    let result = match Exit::combine(outcomes) {
        Exit::Success => Ok(()),
        code => Err(Error::silent(code)),
    };
    ctx.ui
        .emit_result(result, version_data(Some(&name), entries))
}

/// One member's versions for machine output: Patroni's and PostgreSQL's as the member reported
/// them (`null` when it did not), `error` set when it could not answer.
fn member_entry(member: &str, answer: Option<&Response>) -> Value {
    let data = answer.map(Response::json).unwrap_or(Value::Null);
    let patroni = data
        .get("patroni")
        .and_then(|p| p.get("version"))
        .map(py_str);
    let postgres = match data.get("server_version") {
        Some(Value::Number(n)) => n.as_i64().filter(|v| *v != 0).map(format_pg_version),
        Some(v) if crate::py::truth::truthy(v) => Some(py_str(v)),
        _ => None,
    };
    serde_json::json!({
        "member": member,
        "patroniVersion": patroni,
        "postgresVersion": postgres,
        "error": null,
    })
}

/// `Patroni <version>[ PostgreSQL <x.y>]` from a member's `GET /patroni` answer.
fn describe(r: Response) -> std::result::Result<String, (FailureKind, String)> {
    let data = match serde_json::from_str::<Value>(&r.body) {
        Ok(Value::Object(m)) => m,
        _ => {
            let body: String = r.body.chars().take(200).collect();
            return Err((
                FailureKind::Other,
                format!(
                    "HTTP {} with a body that is not a JSON object: {}",
                    r.status,
                    body.trim()
                ),
            ));
        }
    };
    let version = data
        .get("patroni")
        .and_then(|p| p.get("version"))
        .map_or_else(|| "None".to_string(), py_str);
    let pg = match data.get("server_version") {
        Some(Value::Number(n)) if n.as_i64().is_some_and(|v| v != 0) => {
            format!(" PostgreSQL {}", format_pg_version(n.as_i64().unwrap_or(0)))
        }
        Some(v) if crate::py::truth::truthy(v) => format!(" PostgreSQL {}", py_str(v)),
        _ => String::new(),
    };
    Ok(format!("Patroni {version}{pg}"))
}

/// patronictl's `format_pg_version`: `9.6.24` below 10, `14.8` from 10 on.
pub fn format_pg_version(v: i64) -> String {
    if v < 100_000 {
        format!("{}.{}.{}", v / 10000, v / 100 % 100, v % 100)
    } else {
        format!("{}.{}", v / 10000, v % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_versions() {
        assert_eq!(format_pg_version(90624), "9.6.24");
        assert_eq!(format_pg_version(100000), "10.0");
        assert_eq!(format_pg_version(150018), "15.18");
    }

    #[test]
    fn describe_answers() {
        let ok = |body: &str| {
            describe(Response {
                status: 200,
                body: body.into(),
            })
        };
        assert_eq!(
            ok(r#"{"server_version":160004,"patroni":{"version":"4.1.5"}}"#).unwrap(),
            "Patroni 4.1.5 PostgreSQL 16.4"
        );
        assert_eq!(
            ok(r#"{"patroni":{"version":"4.1.5"}}"#).unwrap(),
            "Patroni 4.1.5"
        );
        assert_eq!(ok("{}").unwrap(), "Patroni None");
        assert!(ok("no auth header received").is_err());
    }
}
