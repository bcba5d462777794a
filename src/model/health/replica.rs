//! The one judgement of whether a member that does not hold the leader key replicates: streaming,
//! not streaming (with the reason), or unknown. Every patctl view that says "streaming" or
//! "healthy" (`list --all` and `-o json`, `top`, `events`, `doctor`, the switchover pre-flight and
//! the `--wait` followers) asks [`replication`]; patronictl has no such judgement.
//!
//! The rules follow what each Patroni version writes in the member key (`Ha.touch_member`):
//! - from **3.0.4** on, a replica whose Postgres answers (`running`, also `starting`/`restarting`)
//!   publishes `replication_state`: `streaming` when `pg_stat_wal_receiver` says so, `in archive
//!   recovery` when it is not streaming but has a `restore_command`, and **nothing** otherwise. So a
//!   running replica without `replication_state` is not streaming (replication cut, the WAL receiver
//!   waiting or restarting). 4.0 and 4.1 keep the rule (4.1 adds `receive_lsn`/`replay_lsn`; 4.0
//!   renamed the role `master` to `primary`);
//! - **before 3.0.4**, or with no (or an unreadable) `version`, a running replica without
//!   `replication_state` cannot be told from a streaming one: the verdict is [`Replication::Unknown`],
//!   never streaming;
//! - a member tagged `nostream` replays from the archive only by design: `in archive recovery` is
//!   its normal state ([`Replication::Archive`]); any other replica in archive recovery is not
//!   streaming;
//! - a member in any state but `running` (`stopped`, `starting`, `crashed`, …) is not streaming,
//!   whatever it published; one that claims a leading role without the leader key neither.
//!
//! Lag (catching up) is judged apart, against `maximum_lag_on_failover`, by the callers.

use serde_json::Value;

use crate::model::{parse_bool, Member};

/// The first Patroni version that publishes `replication_state` in the member key.
pub const REPLICATION_STATE_SINCE: (u32, u32, u32) = (3, 0, 4);

/// How a member that does not hold the leader key replicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replication {
    /// Its WAL receiver streams.
    Streaming,
    /// In archive recovery, as its `nostream` tag asks: not streaming, by design.
    Archive,
    /// Not streaming, for the reason given (`stopped`, `not streaming`, `in archive recovery`, …).
    NotStreaming(String),
    /// Its Patroni version does not say (the reason says why).
    Unknown(String),
}

impl Replication {
    /// Streaming, or replaying from the archive by design (`nostream`).
    pub fn is_ok(&self) -> bool {
        matches!(self, Replication::Streaming | Replication::Archive)
    }

    /// The short name used in machine output: `streaming`, `archive`, `not streaming`, `unknown`.
    pub fn verdict(&self) -> &'static str {
        match self {
            Replication::Streaming => "streaming",
            Replication::Archive => "archive",
            Replication::NotStreaming(_) => "not streaming",
            Replication::Unknown(_) => "unknown",
        }
    }

    /// The reason for a verdict other than streaming (`None` when streaming).
    pub fn reason(&self) -> Option<String> {
        match self {
            Replication::Streaming => None,
            Replication::Archive => Some("in archive recovery (nostream)".into()),
            Replication::NotStreaming(r) | Replication::Unknown(r) => Some(r.clone()),
        }
    }
}

/// The Patroni version a member key says it was written by (`version`), as (major, minor, patch).
pub fn patroni_version(m: &Member) -> Option<(u32, u32, u32)> {
    let v = m.str_field("version")?;
    let mut parts = v.split('.').map(|p| {
        let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
        digits.parse::<u32>().ok()
    });
    let major = parts.next()??;
    let minor = parts.next().flatten().unwrap_or(0);
    let patch = parts.next().flatten().unwrap_or(0);
    Some((major, minor, patch))
}

/// Whether the member's Patroni publishes `replication_state` (`None`: its version is unknown).
pub fn publishes_replication_state(m: &Member) -> Option<bool> {
    patroni_version(m).map(|v| v >= REPLICATION_STATE_SINCE)
}

/// Whether the member is tagged `nostream` (Patroni's `Tags.nostream`).
pub fn nostream(m: &Member) -> bool {
    m.tags()
        .and_then(|t| t.get("nostream"))
        .and_then(parse_bool)
        .unwrap_or(false)
}

/// The role as patctl names it: Patroni 3.x wrote `master` where 4.x writes `primary`.
pub fn role_name(role: &str) -> &str {
    if role == "master" {
        "primary"
    } else {
        role
    }
}

/// How `m`, a member that does not hold the leader key, replicates (see the module documentation).
pub fn replication(m: &Member) -> Replication {
    let role = m.str_field("role").unwrap_or("");
    if matches!(role, "primary" | "master" | "standby_leader") {
        return Replication::NotStreaming(format!("{} without the leader key", role_name(role)));
    }
    let state = m.state();
    if state != "running" {
        return Replication::NotStreaming(state.to_string());
    }
    match m.data.get("replication_state") {
        Some(Value::String(r)) if r == "streaming" => Replication::Streaming,
        Some(Value::String(r)) if r == "in archive recovery" && nostream(m) => Replication::Archive,
        Some(Value::String(r)) => Replication::NotStreaming(r.clone()),
        Some(other) => Replication::NotStreaming(format!("replication_state {other}")),
        None => match (publishes_replication_state(m), m.str_field("version")) {
            (Some(true), _) => Replication::NotStreaming("not streaming".into()),
            (Some(false), Some(v)) => Replication::Unknown(format!(
                "running, Patroni {v} publishes no replication state"
            )),
            _ => Replication::Unknown("running, no Patroni version to tell".into()),
        },
    }
}

/// A member as its REST API's `GET /patroni` describes it, in the member key's shape the judgement
/// reads (`state`, `role`, `replication_state`, `tags`, and `version` from `patroni.version`).
pub fn from_rest(name: &str, status: &Value) -> Member {
    let mut data = serde_json::Map::new();
    for k in ["state", "role", "replication_state", "tags", "timeline"] {
        if let Some(v) = status.get(k) {
            data.insert(k.into(), v.clone());
        }
    }
    if let Some(v) = status.get("patroni").and_then(|p| p.get("version")) {
        data.insert("version".into(), v.clone());
    }
    Member {
        name: name.to_string(),
        version: None,
        session: None,
        data,
    }
}

/// The standby leader's link to its source, when its Patroni tells: `Some(reason)` when a Patroni
/// 3.0.4 or later standby leader that is running publishes no `replication_state` (it neither
/// streams nor restores from an archive), else `None`.
pub fn standby_leader_problem(m: &Member) -> Option<String> {
    (m.str_field("role") == Some("standby_leader")
        && m.state() == "running"
        && !m.data.contains_key("replication_state")
        && publishes_replication_state(m) == Some(true))
    .then(|| "not replicating from its source".to_string())
}
