//! One site as it stands: its cluster from the DCS (leader, role, state, timeline, the
//! `standby_cluster` it replicates from, health, pause, scheduled actions) and its leader's
//! PostgreSQL (`pg_current_wal_lsn()` on a primary; received and replayed LSN, the WAL receiver's
//! status, source and timeline on a standby leader), read with `query`'s connection code.

use serde_json::{json, Value};

use super::Site;
use crate::commands::query::read_row;
use crate::model::health::health;
use crate::model::{format_lsn, Cluster, Member};

/// What one round of reading a site found.
#[derive(Debug, Clone, Default)]
pub struct SiteView {
    /// The cluster name.
    pub scope: String,
    /// The DCS could not be read (and why).
    pub dcs_error: Option<String>,
    /// The cluster as read.
    pub cluster: Option<Cluster>,
    /// The leader key's holder.
    pub leader: Option<String>,
    /// Its member key's `role` (`primary`, `standby_leader`).
    pub role: Option<String>,
    /// Its member key's `state`.
    pub state: Option<String>,
    /// Its PostgreSQL host and port.
    pub host_port: Option<(String, u16)>,
    /// Its timeline (member key, else the WAL receiver's).
    pub timeline: Option<i64>,
    /// `standby_cluster.host`/`port` of the dynamic configuration.
    pub source: Option<(String, u16)>,
    /// Every member's name and PostgreSQL address.
    pub members: Vec<(String, (String, u16))>,
    /// The health problems, as `list --all` judges them.
    pub problems: Vec<String>,
    /// `pause` is set.
    pub paused: bool,
    /// A scheduled switchover or restart exists.
    pub scheduled: bool,
    /// The leader's PostgreSQL could not be read (and why).
    pub pg_error: Option<String>,
    /// `pg_is_in_recovery()`.
    pub in_recovery: Option<bool>,
    /// `pg_current_wal_lsn()` (primary).
    pub current_lsn: Option<u64>,
    /// `pg_last_wal_receive_lsn()` (standby).
    pub receive_lsn: Option<u64>,
    /// `pg_last_wal_replay_lsn()` (standby).
    pub replay_lsn: Option<u64>,
    /// `pg_stat_wal_receiver.status`.
    pub receiver: Option<String>,
    /// `pg_stat_wal_receiver.sender_host:sender_port`.
    pub sender: Option<(String, u16)>,
    /// Seconds since the last replayed transaction (standby).
    pub replay_age: Option<f64>,
}

/// The SQL of one read: recovery, the three LSNs, the WAL receiver, the replay age, the timeline.
const POSITIONS: &str = "SELECT pg_catalog.pg_is_in_recovery()::text, \
CASE WHEN pg_catalog.pg_is_in_recovery() THEN NULL ELSE pg_catalog.pg_current_wal_lsn()::text END, \
pg_catalog.pg_last_wal_receive_lsn()::text, pg_catalog.pg_last_wal_replay_lsn()::text, \
(SELECT status FROM pg_catalog.pg_stat_wal_receiver), \
(SELECT sender_host || ':' || sender_port FROM pg_catalog.pg_stat_wal_receiver), \
(SELECT received_tli::text FROM pg_catalog.pg_stat_wal_receiver), \
EXTRACT(EPOCH FROM now() - pg_catalog.pg_last_xact_replay_timestamp())::text, \
(SELECT timeline_id::text FROM pg_catalog.pg_control_checkpoint())";

/// Parse PostgreSQL's `X/Y` LSN.
pub fn parse_lsn(s: &str) -> Option<u64> {
    let (hi, lo) = s.split_once('/')?;
    Some((u64::from_str_radix(hi, 16).ok()? << 32) | u64::from_str_radix(lo, 16).ok()?)
}

/// `X/Y`, or `null`.
pub fn lsn_json(l: Option<u64>) -> Value {
    l.map_or(Value::Null, |l| json!(format_lsn(l as i64)))
}

/// `host:port`, split.
fn host_port(s: &str) -> Option<(String, u16)> {
    let (h, p) = s.rsplit_once(':')?;
    Some((h.to_string(), p.parse().ok()?))
}

/// A member's PostgreSQL address.
pub fn member_address(m: &Member) -> Option<(String, u16)> {
    let (h, p) = m.host_port()?;
    Some((h, p.unwrap_or(5432)))
}

/// One member's positions (recovery, receive, replay), for the final LSN of a demoted site.
pub async fn member_positions(
    m: &Member,
    dbuser: Option<&str>,
) -> crate::error::Result<(bool, Option<u64>, Option<u64>)> {
    let row = read_row(m, dbuser, POSITIONS).await?;
    let get = |i: usize| row.get(i).cloned().flatten();
    Ok((
        get(0).as_deref() == Some("true"),
        get(2).as_deref().and_then(parse_lsn),
        get(3).as_deref().and_then(parse_lsn),
    ))
}

impl SiteView {
    /// Read `site` now: its DCS, then its leader's PostgreSQL.
    pub async fn read(site: &mut Site<'_>, dbuser: Option<&str>) -> SiteView {
        let mut v = SiteView {
            scope: site.scope.clone(),
            ..SiteView::default()
        };
        let cluster = match site.ctx.cluster(&site.scope, None).await {
            Ok(c) => c,
            Err(e) => {
                v.dcs_error = Some(e.message);
                return v;
            }
        };
        v.leader = cluster.leader_name().map(String::from);
        let leader = cluster.leader_member().cloned();
        v.role = leader
            .as_ref()
            .and_then(|m| m.str_field("role"))
            .map(String::from);
        v.state = leader
            .as_ref()
            .and_then(|m| m.str_field("state"))
            .map(String::from);
        v.host_port = leader.as_ref().and_then(member_address);
        v.timeline = leader.as_ref().and_then(|m| m.lsn_field("timeline"));
        v.source = standby_source(&cluster);
        v.members = cluster
            .members
            .iter()
            .filter_map(|m| Some((m.name.clone(), member_address(m)?)))
            .collect();
        let h = health(&cluster);
        v.problems = h.problems;
        v.paused = h.paused;
        v.scheduled = !h.scheduled.is_empty();
        v.cluster = Some(cluster);
        let Some(leader) = leader else {
            v.pg_error = Some("no leader member to read".into());
            return v;
        };
        match read_row(&leader, dbuser, POSITIONS).await {
            Ok(row) => {
                let get = |i: usize| row.get(i).cloned().flatten();
                v.in_recovery = get(0).map(|s| s == "true");
                v.current_lsn = get(1).as_deref().and_then(parse_lsn);
                v.receive_lsn = get(2).as_deref().and_then(parse_lsn);
                v.replay_lsn = get(3).as_deref().and_then(parse_lsn);
                v.receiver = get(4);
                v.sender = get(5).as_deref().and_then(host_port);
                let received_tli = get(6).and_then(|t| t.parse().ok());
                v.replay_age = get(7).and_then(|t| t.parse().ok());
                let checkpoint_tli = get(8).and_then(|t| t.parse().ok());
                v.timeline = v.timeline.or(received_tli).or(checkpoint_tli);
            }
            Err(e) => v.pg_error = Some(e.message),
        }
        v
    }

    /// The member of this site at `addr`, if any.
    pub fn member_at(&self, addr: &(String, u16)) -> Option<&str> {
        self.members
            .iter()
            .find(|(_, a)| a == addr)
            .map(|(n, _)| n.as_str())
    }

    /// The leader is a primary (not a standby leader) and its PostgreSQL is not in recovery.
    pub fn is_primary(&self) -> bool {
        self.role.as_deref() == Some("primary") && self.in_recovery == Some(false)
    }

    /// The leader is a standby leader.
    pub fn is_standby(&self) -> bool {
        self.role.as_deref() == Some("standby_leader")
    }

    /// Bytes of WAL written on `primary` that this (standby) site has not received.
    pub fn lag_behind(&self, primary: &SiteView) -> Option<u64> {
        Some(primary.current_lsn?.saturating_sub(self.receive_lsn?))
    }

    /// Seconds behind: 0 when everything written was replayed, else since the last replayed
    /// transaction.
    pub fn lag_seconds(&self, primary: &SiteView) -> Option<f64> {
        if self.replay_lsn? >= primary.current_lsn? {
            return Some(0.0);
        }
        self.replay_age.map(|a| a.max(0.0))
    }

    /// The site as JSON (the `sites` of the documents).
    pub fn to_json(&self) -> Value {
        let addr = |a: &Option<(String, u16)>| {
            a.as_ref()
                .map_or(Value::Null, |(h, p)| json!({"host": h, "port": p}))
        };
        json!({
            "cluster": self.scope,
            "dcsError": self.dcs_error,
            "leader": self.leader,
            "role": self.role,
            "state": self.state,
            "address": addr(&self.host_port),
            "timeline": self.timeline,
            "standbyCluster": addr(&self.source),
            "problems": self.problems,
            "paused": self.paused,
            "scheduled": self.scheduled,
            "pgError": self.pg_error,
            "inRecovery": self.in_recovery,
            "currentLsn": lsn_json(self.current_lsn),
            "receiveLsn": lsn_json(self.receive_lsn),
            "replayLsn": lsn_json(self.replay_lsn),
            "walReceiver": self.receiver,
            "sender": addr(&self.sender),
        })
    }

    /// One line for progress and failure reports: `demo: leader node1 primary running TL 1`.
    pub fn summary(&self) -> String {
        if let Some(e) = &self.dcs_error {
            return format!("{}: DCS unreachable ({e})", self.scope);
        }
        let Some(l) = &self.leader else {
            return format!("{}: no leader", self.scope);
        };
        let mut s = format!(
            "{}: leader {l} {} {} TL {}",
            self.scope,
            self.role.as_deref().unwrap_or("?"),
            self.state.as_deref().unwrap_or("?"),
            self.timeline.map_or("?".into(), |t| t.to_string())
        );
        let lsn = |l: Option<u64>| l.map_or("?".into(), |l| format_lsn(l as i64));
        if self.in_recovery == Some(false) {
            s.push_str(&format!(", current LSN {}", lsn(self.current_lsn)));
        } else if self.in_recovery == Some(true) {
            s.push_str(&format!(
                ", received {} replayed {}",
                lsn(self.receive_lsn),
                lsn(self.replay_lsn)
            ));
            if let Some((h, p)) = &self.source {
                s.push_str(&format!(", replicating from {h}:{p}"));
            }
        }
        if let Some(e) = &self.pg_error {
            s.push_str(&format!(" (PostgreSQL: {e})"));
        }
        s
    }
}

/// `standby_cluster.host`/`port` of the dynamic configuration.
fn standby_source(c: &Cluster) -> Option<(String, u16)> {
    let sc = c.valid_config()?.get("standby_cluster")?.as_object()?;
    let host = sc.get("host")?.as_str()?.to_string();
    let port = match sc.get("port") {
        Some(Value::Number(n)) => u16::try_from(n.as_u64()?).ok()?,
        Some(Value::String(s)) => s.parse().ok()?,
        _ => 5432,
    };
    Some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsns_parse_and_print() {
        assert_eq!(parse_lsn("0/501A800"), Some(0x501A800));
        assert_eq!(parse_lsn("1/0"), Some(1 << 32));
        assert_eq!(parse_lsn("x"), None);
        assert_eq!(lsn_json(Some(0x501A800)), json!("0/501A800"));
        assert_eq!(
            host_port("127.0.0.1:7933"),
            Some(("127.0.0.1".into(), 7933))
        );
    }
}
