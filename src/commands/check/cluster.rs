//! The cluster checks of check_patroni 2.2 (`cluster.py`): each reads `/cluster` (or `/config`) from
//! the first endpoint that answers and yields the same metrics, thresholds and summaries.

use std::path::PathBuf;

use clap::Args;
use serde_json::Value;

use super::nagios::{Metric, Num, Range, Summary};
use super::{state, Probed, Rest, Stop, SyncType};
use crate::py::json as pyjson;
use crate::py::repr::py_str;
use crate::py::truth::truthy;

/// `cluster_node_count`.
#[derive(Debug, Args)]
pub struct NodeCountArgs {
    /// Warning threshold for the number of nodes.
    #[arg(short = 'w', long = "warning")]
    pub warning: Option<String>,
    /// Critical threshold for the number of nodes.
    #[arg(short = 'c', long = "critical")]
    pub critical: Option<String>,
    /// Warning threshold for the number of healthy nodes (running + streaming).
    #[arg(long = "healthy-warning")]
    pub healthy_warning: Option<String>,
    /// Critical threshold for the number of healthy nodes (running + streaming).
    #[arg(long = "healthy-critical")]
    pub healthy_critical: Option<String>,
}

impl NodeCountArgs {
    /// The four ranges, or nagiosplugin's `ValueError` line.
    pub fn ranges(&self) -> Result<[Range; 4], String> {
        Ok([
            range(&self.warning)?,
            range(&self.critical)?,
            range(&self.healthy_warning)?,
            range(&self.healthy_critical)?,
        ])
    }
}

/// `cluster_has_replica`.
#[derive(Debug, Args)]
pub struct ReplicaArgs {
    /// Warning threshold for the number of healthy replica nodes.
    #[arg(short = 'w', long = "warning")]
    pub warning: Option<String>,
    /// Critical threshold for the number of healthy replica nodes.
    #[arg(short = 'c', long = "critical")]
    pub critical: Option<String>,
    /// Warning threshold for the number of sync replica.
    #[arg(long = "sync-warning")]
    pub sync_warning: Option<String>,
    /// Critical threshold for the number of sync replica.
    #[arg(long = "sync-critical")]
    pub sync_critical: Option<String>,
    /// Synchronous replication mode used to filter and count sync standbies.
    #[arg(long = "sync-type", value_enum, default_value_t = SyncType::Any)]
    pub sync_type: SyncType,
    /// maximum allowed lag
    #[arg(long = "max-lag")]
    pub max_lag: Option<String>,
}

impl ReplicaArgs {
    /// The four ranges and the lag limit in bytes, or the error line check_patroni dies with.
    pub fn ranges(&self) -> Result<([Range; 4], Option<i64>), String> {
        let lag = self
            .max_lag
            .as_deref()
            .map(state::size_to_byte)
            .transpose()?;
        Ok((
            [
                range(&self.warning)?,
                range(&self.critical)?,
                range(&self.sync_warning)?,
                range(&self.sync_critical)?,
            ],
            lag,
        ))
    }
}

/// `cluster_config_has_changed`.
#[derive(Debug, Args)]
pub struct ConfigChangedArgs {
    /// A hash to compare with.
    #[arg(id = "config_hash", long = "hash", value_name = "HASH")]
    pub hash: Option<String>,
    /// A state file to store the hash of the configuration.
    #[arg(short = 's', long = "state-file")]
    pub state_file: Option<PathBuf>,
    /// Set the current configuration hash as the reference for future calls.
    #[arg(id = "save_config", long = "save")]
    pub save: bool,
}

fn range(spec: &Option<String>) -> Result<Range, String> {
    Range::parse(spec.as_deref()).map_err(|e| format!("ValueError: {e}"))
}

fn fixed(spec: &str) -> Range {
    Range::parse(Some(spec)).expect("a valid built-in range")
}

fn int(v: i64) -> Num {
    Num::Int(v)
}

fn members(cluster: &Value) -> Result<&Vec<Value>, Stop> {
    cluster["members"]
        .as_array()
        .ok_or_else(|| Stop::Crash("KeyError: 'members'".into()))
}

fn s<'v>(m: &'v Value, key: &str) -> &'v str {
    m[key].as_str().unwrap_or("")
}

/// check_patroni's `replace_chars`: quotes removed, spaces to underscores.
fn replace_chars(text: &str) -> String {
    text.replace('\'', "").replace(' ', "_")
}

/// `m` when it has every key, else check_patroni's `KeyError` for the first missing one.
fn required<'v>(m: &'v Value, keys: &[&str]) -> Result<&'v Value, Stop> {
    match keys.iter().find(|k| m.get(**k).is_none()) {
        Some(k) => Err(Stop::Crash(format!("KeyError: '{k}'"))),
        None => Ok(m),
    }
}

const REPLICA_ROLES: [&str; 3] = ["replica", "sync_standby", "quorum_standby"];

/// `cluster_node_count`: members and healthy members against the thresholds, counts per role and
/// per state as performance data.
pub async fn node_count(rest: &Rest, a: &NodeCountArgs) -> Probed {
    let [w, c, hw, hc] = a.ranges().map_err(Stop::Crash)?;
    let cluster = rest.cluster().await?;
    let members = members(&cluster)?;
    let mut roles: Vec<(String, i64)> = Vec::new();
    let mut states: Vec<(String, i64)> = Vec::new();
    let bump = |v: &mut Vec<(String, i64)>, k: String| match v.iter_mut().find(|(n, _)| *n == k) {
        Some((_, n)) => *n += 1,
        None => v.push((k, 1)),
    };
    let mut healthy = 0;
    for m in members {
        let (state, role) = (s(m, "state"), s(m, "role"));
        bump(&mut roles, replace_chars(role));
        bump(&mut states, replace_chars(state));
        if role == "leader" && state == "running" {
            healthy += 1;
            continue;
        }
        if [
            "standby_leader",
            "replica",
            "sync_standby",
            "quorum_standby",
        ]
        .contains(&role)
        {
            let detailed = rest.has_detailed_states().await?;
            if (detailed && state == "streaming") || (!detailed && state == "running") {
                healthy += 1;
            }
        }
    }
    let mut out = vec![
        Metric::with("members", int(members.len() as i64), w, c),
        Metric::with("healthy_members", int(healthy), hw, hc),
    ];
    out.extend(
        roles
            .into_iter()
            .map(|(r, n)| Metric::plain(format!("role_{r}"), int(n))),
    );
    out.extend(
        states
            .into_iter()
            .map(|(st, n)| Metric::plain(format!("state_{st}"), int(n))),
    );
    Ok((out, Summary::default()))
}

/// `cluster_has_leader`: a running leader, or a standby leader streaming (WARNING when it is only in
/// archive recovery).
pub async fn has_leader(rest: &Rest) -> Probed {
    let cluster = rest.cluster().await?;
    let (mut leader, mut standby, mut arc_rec) = (false, false, false);
    for m in members(&cluster)? {
        let (role, state) = (s(m, "role"), s(m, "state"));
        if role == "leader" && state == "running" {
            leader = true;
            break;
        }
        if role == "standby_leader" {
            if !["streaming", "in archive recovery"].contains(&state)
                && (rest.has_detailed_states().await? || state != "running")
            {
                continue;
            }
            arc_rec = state == "in archive recovery";
            standby = true;
            break;
        }
    }
    let b = |x: bool| int(i64::from(x));
    Ok((
        vec![
            Metric::with(
                "has_leader",
                b(leader || standby),
                Range::default(),
                fixed("@0:0"),
            ),
            Metric::with(
                "is_standby_leader_in_arc_rec",
                b(arc_rec),
                fixed("@1:1"),
                Range::default(),
            ),
            Metric::plain("is_standby_leader", b(standby)),
            Metric::plain("is_leader", b(leader)),
        ],
        Summary {
            ok: Some("The cluster has a running leader.".into()),
            problem: Some(
                "The cluster has no running leader or the standby leader is in archive recovery."
                    .into(),
            ),
        },
    ))
}

/// `cluster_has_replica`: healthy replicas (replica role, streaming or in archive recovery on the
/// leader's timeline, lag within `--max-lag`) and sync replicas against the thresholds; lag,
/// timeline and sync flag of each replica as performance data.
pub async fn has_replica(rest: &Rest, a: &ReplicaArgs) -> Probed {
    let ([w, c, sw, sc], max_lag) = a.ranges().map_err(Stop::Crash)?;
    let cluster = rest.cluster().await?;
    let members = members(&cluster)?;
    let (mut healthy, mut unhealthy, mut sync) = (0, 0, 0);
    let mut perf: Vec<Metric> = Vec::new();
    let mut leader_tl: Option<i64> = None;
    for m in members {
        let role = s(m, "role");
        if !REPLICA_ROLES.contains(&role) {
            continue;
        }
        // check_patroni reads these keys unconditionally (its debug line is built for every replica),
        // so a replica without one (a stopped member has no `timeline`) ends the check with a KeyError.
        let unknown = required(m, &["lag"])?["lag"].as_str() == Some("unknown");
        if unknown {
            required(m, &["name", "state", "timeline"])?;
            unhealthy += 1;
            continue;
        }
        required(m, &["name", "timeline", "state"])?;
        let name = s(m, "name");
        let lag = Num::from_json(&m["lag"]);
        let tl = Num::from_json(&m["timeline"]);
        let (Some(lag), Some(tl)) = (lag, tl) else {
            return Err(Stop::Crash(format!(
                "TypeError: member {name} has no numeric lag or timeline"
            )));
        };
        let is_sync = i64::from(role == "sync_standby" || role == "quorum_standby");
        perf.push(Metric::plain(format!("{name}_lag"), lag));
        perf.push(Metric::plain(format!("{name}_timeline"), tl));
        perf.push(Metric::plain(format!("{name}_sync"), int(is_sync)));
        if leader_tl.is_none() {
            leader_tl = members
                .iter()
                .find(|t| ["leader", "standby_leader"].contains(&s(t, "role")))
                .and_then(|t| crate::model::parse_int(&t["timeline"]));
        }
        let on_leader_tl =
            crate::model::parse_int(&m["timeline"]).is_some_and(|t| Some(t) == leader_tl);
        let state = s(m, "state");
        let detailed = rest.has_detailed_states().await?;
        let healthy_state = if detailed {
            state == "streaming" || state == "in archive recovery"
        } else {
            state == "running"
        };
        if !(healthy_state && on_leader_tl) {
            unhealthy += 1;
            continue;
        }
        if a.sync_type.counts(role) {
            sync += 1;
        }
        let lag_bytes = crate::model::parse_int(&m["lag"]).unwrap_or(i64::MAX);
        if max_lag.is_none_or(|max| max >= lag_bytes) {
            healthy += 1;
        } else {
            unhealthy += 1;
        }
    }
    let mut out = vec![
        Metric::with("healthy_replica", int(healthy), w, c),
        Metric::with("sync_replica", int(sync), sw, sc),
        Metric::plain("unhealthy_replica", int(unhealthy)),
    ];
    out.extend(perf);
    Ok((out, Summary::default()))
}

/// `cluster_config_has_changed`: the MD5 of `json.dumps(/config)` against `--hash` or the state
/// file's `hash` (saved there with `--save`).
pub async fn config_has_changed(rest: &Rest, a: &ConfigChangedArgs) -> Probed {
    let old: Value = match (&a.hash, &a.state_file) {
        (Some(h), _) => Value::String(h.clone()),
        (None, Some(p)) => state::cookie_get(p, "hash").map_err(Stop::Early)?,
        (None, None) => Value::Null,
    };
    let config = rest.get("config").await?;
    let digest = openssl::hash::hash(
        openssl::hash::MessageDigest::md5(),
        pyjson::dumps(&config).as_bytes(),
    )
    .map_err(|e| Stop::Crash(format!("ValueError: md5: {e}")))?;
    let new: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    if let (Some(p), true) = (&a.state_file, a.save) {
        state::cookie_set(p, "hash", Value::String(new.clone())).map_err(Stop::Crash)?;
    }
    let changed = old.as_str() != Some(new.as_str());
    let old = py_str(&old);
    Ok((
        vec![Metric::with(
            "is_configuration_changed",
            int(i64::from(changed)),
            Range::default(),
            fixed("@1:1"),
        )],
        Summary {
            ok: Some(format!(
                "The hash of patroni's dynamic configuration has not changed ({old})."
            )),
            problem: Some(format!(
                "The hash of patroni's dynamic configuration has changed. The old hash was {old}."
            )),
        },
    ))
}

/// `cluster_is_in_maintenance`: CRITICAL when the cluster is paused.
pub async fn is_in_maintenance(rest: &Rest) -> Probed {
    let cluster = rest.cluster().await?;
    let paused = cluster.get("pause").is_some_and(truthy);
    Ok((
        vec![Metric::with(
            "is_in_maintenance",
            int(i64::from(paused)),
            Range::default(),
            fixed("0:0"),
        )],
        Summary::default(),
    ))
}

/// `cluster_has_scheduled_action`: CRITICAL when a switchover or a restart is scheduled.
pub async fn has_scheduled_action(rest: &Rest) -> Probed {
    let cluster = rest.cluster().await?;
    let switchover = i64::from(cluster.get("scheduled_switchover").is_some());
    let restarts = members(&cluster)?
        .iter()
        .filter(|m| m.get("scheduled_restart").is_some())
        .count() as i64;
    Ok((
        vec![
            Metric::with(
                "has_scheduled_actions",
                int(i64::from(switchover + restarts > 0)),
                Range::default(),
                fixed("0:0"),
            ),
            Metric::plain("scheduled_switchover", int(switchover)),
            Metric::plain("scheduled_restart", int(restarts)),
        ],
        Summary::default(),
    ))
}
