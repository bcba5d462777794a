//! The node checks of check_patroni 2.2 (`node.py`): Patroni's role endpoints (`/primary`, `/leader`,
//! `/standby-leader`, `/replica`, `/liveness`) answer 200 for "yes" and an error status for "no";
//! `/patroni` gives the pending restart flag, the timeline and the version.

use std::path::PathBuf;

use clap::Args;
use serde_json::Value;

use super::nagios::{Metric, Num, Range, Summary};
use super::{state, Probed, Rest, Stop, SyncType};
use crate::py::repr::py_str;
use crate::py::truth::truthy;

/// `node_is_leader`.
#[derive(Debug, Args)]
pub struct LeaderArgs {
    /// Check for a standby leader
    #[arg(id = "check_standby_leader", long = "is-standby-leader")]
    pub is_standby_leader: bool,
}

/// `node_is_replica`.
#[derive(Debug, Args)]
pub struct ReplicaArgs {
    /// maximum allowed lag
    #[arg(long = "max-lag")]
    pub max_lag: Option<String>,
    /// check if the replica is synchronous
    #[arg(id = "check_is_sync", long = "is-sync")]
    pub is_sync: bool,
    /// Synchronous replication mode.
    #[arg(long = "sync-type", value_enum, default_value_t = SyncType::Any)]
    pub sync_type: SyncType,
    /// check if the replica is asynchronous
    #[arg(id = "check_is_async", long = "is-async")]
    pub is_async: bool,
}

/// `node_tl_has_changed`.
#[derive(Debug, Args)]
pub struct TimelineArgs {
    /// A timeline number to compare with.
    #[arg(long = "timeline")]
    pub timeline: Option<String>,
    /// A state file to store the last tl number into.
    #[arg(short = 's', long = "state-file")]
    pub state_file: Option<PathBuf>,
    /// Set the current timeline number as the reference for future calls.
    #[arg(id = "save_tl", long = "save")]
    pub save: bool,
}

/// `node_patroni_version`.
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Patroni version to compare to
    #[arg(long = "patroni-version", required = true)]
    pub patroni_version: String,
}

/// A 0/1 metric that is CRITICAL at 0, with the check's two summaries.
fn yes_no(name: &str, yes: bool, ok: String, problem: String) -> Probed {
    Ok((
        vec![Metric::with(
            name,
            Num::Int(i64::from(yes)),
            Range::default(),
            Range::parse(Some("@0:0")).expect("valid"),
        )],
        Summary {
            ok: Some(ok),
            problem: Some(problem),
        },
    ))
}

/// 200: yes; another status: no; no answer: the check stops.
async fn answers(rest: &Rest, service: &str) -> Result<Option<Value>, Stop> {
    match rest.get(service).await {
        Ok(v) => Ok(Some(v)),
        Err(Stop::Status(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `node_is_primary`: `/primary` answers 200.
pub async fn is_primary(rest: &Rest) -> Probed {
    let yes = answers(rest, "primary").await?.is_some();
    yes_no(
        "is_primary",
        yes,
        "This node is the primary with the leader lock.".into(),
        "This node is not the primary with the leader lock.".into(),
    )
}

/// `node_is_leader`: `/leader` (or `/standby-leader`) answers 200.
pub async fn is_leader(rest: &Rest, a: &LeaderArgs) -> Probed {
    let (service, kind) = if a.is_standby_leader {
        ("standby-leader", "standby leader")
    } else {
        ("leader", "leader")
    };
    let yes = answers(rest, service).await?.is_some();
    yes_no(
        "is_leader",
        yes,
        format!("This node is a {kind} node."),
        format!("This node is not a {kind} node."),
    )
}

/// `node_is_replica`: `/replica` (with `?lag=`) answers 200, and the node is (a)synchronous as asked.
pub async fn is_replica(rest: &Rest, a: &ReplicaArgs) -> Probed {
    let service = match &a.max_lag {
        None => "replica".to_string(),
        Some(lag) => format!("replica?lag={lag}"),
    };
    let answer = answers(rest, &service).await?;
    let yes = match &answer {
        None => false,
        Some(v) => {
            let has = |k: &str| v.as_object().is_some_and(|o| o.contains_key(k));
            if a.is_sync {
                (a.sync_type != SyncType::Quorum && has("sync_standby"))
                    || (a.sync_type != SyncType::Sync && has("quorum_standby"))
            } else if a.is_async {
                !(has("sync_standby") || has("quorum_standby"))
            } else {
                true
            }
        }
    };
    let kind = if a.is_sync {
        format!("synchronous replica of kind '{}'", a.sync_type.as_str())
    } else if a.is_async {
        "asynchronous replica".to_string()
    } else {
        "replica".to_string()
    };
    let (ok, problem) = match &a.max_lag {
        None => (
            format!("This node is a running {kind} with no noloadbalance tag."),
            format!("This node is not a running {kind} with no noloadbalance tag."),
        ),
        Some(lag) => (
            format!(
                "This node is a running {kind} with no noloadbalance tag and the lag is under {lag}."
            ),
            format!(
                "This node is not a running {kind} with no noloadbalance tag and a lag under {lag}."
            ),
        ),
    };
    yes_no("is_replica", yes, ok, problem)
}

/// `node_is_pending_restart`: `/patroni` has a true `pending_restart`.
pub async fn is_pending_restart(rest: &Rest) -> Probed {
    let p = rest.get("patroni").await?;
    let pending = p.get("pending_restart").is_some_and(truthy);
    Ok((
        vec![Metric::with(
            "is_pending_restart",
            Num::Int(i64::from(pending)),
            Range::default(),
            Range::parse(Some("0:0")).expect("valid"),
        )],
        Summary {
            ok: Some("This node doesn't have the pending restart flag.".into()),
            problem: Some("This node has the pending restart flag.".into()),
        },
    ))
}

/// `node_tl_has_changed`: `/patroni`'s timeline against `--timeline` or the state file's `timeline`
/// (saved there with `--save`).
pub async fn tl_has_changed(rest: &Rest, a: &TimelineArgs) -> Probed {
    let old: Value = match (&a.timeline, &a.state_file) {
        (Some(t), _) => Value::String(t.clone()),
        (None, Some(p)) => state::cookie_get(p, "timeline").map_err(Stop::Early)?,
        (None, None) => Value::Null,
    };
    let p = rest.get("patroni").await?;
    let new = p["timeline"].clone();
    if let (Some(path), true) = (&a.state_file, a.save) {
        state::cookie_set(path, "timeline", new.clone()).map_err(Stop::Crash)?;
    }
    let Some(tl) = Num::from_json(&new) else {
        return Err(Stop::Crash(format!(
            "TypeError: the timeline is not a number: {}",
            py_str(&new)
        )));
    };
    let changed = py_str(&new) != py_str(&old);
    let old = py_str(&old);
    Ok((
        vec![
            Metric::with(
                "is_timeline_changed",
                Num::Int(i64::from(changed)),
                Range::default(),
                Range::parse(Some("@1:1")).expect("valid"),
            ),
            Metric::plain("timeline", tl),
        ],
        Summary {
            ok: Some(format!("The timeline is still {old}.")),
            problem: Some(format!(
                "The expected timeline was {old} got {}.",
                tl.py_str()
            )),
        },
    ))
}

/// `node_patroni_version`: `/patroni`'s version equals `--patroni-version`.
pub async fn patroni_version(rest: &Rest, a: &VersionArgs) -> Probed {
    let p = rest.get("patroni").await?;
    let same = p["patroni"]["version"].as_str() == Some(a.patroni_version.as_str());
    let v = &a.patroni_version;
    yes_no(
        "is_version_ok",
        same,
        format!("Patroni's version is {v}."),
        format!("Patroni's version is not {v}."),
    )
}

/// `node_is_alive`: `/liveness` answers 200.
pub async fn is_alive(rest: &Rest) -> Probed {
    let yes = answers(rest, "liveness").await?.is_some();
    yes_no(
        "is_alive",
        yes,
        "This node is alive (patroni is running).".into(),
        "This node is not alive (patroni is not running).".into(),
    )
}
