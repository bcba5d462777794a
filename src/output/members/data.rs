//! The machine data of `list -o json|yaml` (kind `ClusterList`) and `topology -o json|yaml` (kind
//! `Topology`), and the per-cluster health line of `list --all`: patctl's own. The members are the
//! ones patronictl's table shows (Patroni's `cluster_as_json`: derived role and state, host and port),
//! with exact byte positions and lags instead of MiB, each member key's age (from the leases' or
//! TTLs' time to live, given), and the health summary of [`crate::model::health`]. Pure: clusters
//! in, `serde_json::Value` or text out.

use serde_json::{json, Map, Value};

use super::json::{cluster_as_json, topology_tree, MemberJson};
use crate::model::health::{is_stale, replication, Health, Verdict};
use crate::model::{parse_int, Cluster, KeyTtl, Member};
use crate::py::truth::truthy;

/// One cluster to describe.
pub struct ClusterItem<'a> {
    /// The cluster name (scope).
    pub name: &'a str,
    /// The namespace it was read from (`/service/`).
    pub namespace: &'a str,
    /// The cluster as read.
    pub cluster: &'a Cluster,
    /// Its health summary.
    pub health: &'a Health,
    /// What is left of the members' leases or TTLs, by session (the DCS layer's `Dcs::key_ttls`);
    /// a member whose session is not in it has `keyAgeSeconds` null.
    pub ttls: &'a KeyTtls,
}

/// Session → what is left of its lease or TTL.
pub type KeyTtls = std::collections::HashMap<i64, KeyTtl>;

/// `data` of the `ClusterList` / `Topology` envelope: `{"clusters": [...]}`. `group` is `--group`;
/// `citus` whether members carry their Citus group; `topology` adds each member's `upstream` and
/// `level` in replication-tree order.
pub fn clusters_data(
    items: &[ClusterItem],
    group: Option<i64>,
    citus: bool,
    topology: bool,
) -> Value {
    let clusters: Vec<Value> = items
        .iter()
        .map(|i| cluster_data(i, group, citus, topology))
        .collect();
    json!({ "clusters": clusters })
}

fn cluster_data(item: &ClusterItem, group: Option<i64>, citus: bool, topology: bool) -> Value {
    let c = item.cluster;
    let mut groups: Vec<(i64, &Cluster)> = vec![(group.unwrap_or(0), c)];
    if citus && group.is_none() {
        groups.extend(c.workers.iter().map(|(g, w)| (*g, w)));
    }
    let mut members = Vec::new();
    for (g, gc) in groups {
        let rows = cluster_as_json(gc).members;
        let tree: Vec<(usize, MemberJson)> = if topology {
            topology_tree(rows)
        } else {
            rows.into_iter().map(|m| (0, m)).collect()
        };
        let mut parents: Vec<String> = Vec::new();
        for (level, m) in tree {
            let mut v = member_data(gc, &m, citus.then_some(g), item.ttls);
            if topology {
                parents.truncate(level);
                v.insert(
                    "upstream".into(),
                    parents.last().cloned().map_or(Value::Null, Value::String),
                );
                v.insert("level".into(), Value::from(level));
                parents.push(m.name.clone());
            }
            members.push(Value::Object(v));
        }
    }
    json!({
        "name": item.name,
        "namespace": item.namespace,
        "group": group,
        "initialize": c.initialize,
        "health": health_data(item.health),
        "members": members,
    })
}

fn member_data(
    c: &Cluster,
    m: &MemberJson,
    group: Option<i64>,
    ttls: &KeyTtls,
) -> Map<String, Value> {
    let raw: Option<&Member> = c.member(&m.name);
    let ttl = c
        .valid_config()
        .and_then(|cfg| cfg.get("ttl"))
        .and_then(parse_int)
        .unwrap_or(30) as f64;
    let key_age = raw
        .and_then(|r| r.session)
        .and_then(|s| ttls.get(&s))
        .map(|t| t.age(ttl));
    let field = |k: &str| raw.and_then(|r| r.data.get(k));
    let lsn = |k: &str| raw.and_then(|r| r.lsn_field(k)).filter(|l| *l > 0);
    let is_leader = m.lsns.is_none();
    let (mut receive, mut replay) = if is_leader {
        (None, None)
    } else {
        (lsn("receive_lsn"), lsn("replay_lsn"))
    };
    // Members older than 4.1 publish only xlog_location: the table's rule, receive when streaming.
    if !is_leader && receive.is_none() && replay.is_none() {
        if m.state == "streaming" {
            receive = lsn("xlog_location");
        } else {
            replay = lsn("xlog_location");
        }
    }
    let lag = |l: Option<i64>| match (l, c.optime) {
        (Some(l), optime) if optime > 0 => Value::from(optime.saturating_sub(l.max(0) as u64)),
        _ => Value::Null,
    };
    let tags = m
        .tags
        .clone()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    let tag_bool = |k: &str| tags.get(k).is_some_and(truthy);
    let opt_str = |v: Option<&Value>| v.and_then(Value::as_str).map(String::from);
    let object_or_null = |v: Option<&Value>| v.filter(|v| v.is_object()).cloned();
    let mut out = Map::new();
    out.insert("name".into(), m.name.clone().into());
    out.insert("group".into(), group.into());
    out.insert("host".into(), m.host.clone().into());
    out.insert("port".into(), m.port.into());
    out.insert("role".into(), m.role.into());
    out.insert("state".into(), m.state.clone().into());
    out.insert(
        "timeline".into(),
        m.timeline.as_ref().and_then(crate::model::parse_int).into(),
    );
    out.insert(
        "xlogLocation".into(),
        lsn("xlog_location").map_or(Value::Null, Value::from),
    );
    out.insert("receiveLsn".into(), receive.into());
    out.insert("receiveLagBytes".into(), lag(receive));
    out.insert("replayLsn".into(), replay.into());
    out.insert("replayLagBytes".into(), lag(replay));
    out.insert(
        "pendingRestart".into(),
        m.pending_restart.as_ref().is_some_and(truthy).into(),
    );
    out.insert(
        "pendingRestartReason".into(),
        object_or_null(m.pending_restart_reason.as_ref()).into(),
    );
    out.insert(
        "scheduledRestart".into(),
        object_or_null(m.scheduled_restart.as_ref()).into(),
    );
    out.insert(
        "nofailover".into(),
        raw.is_some_and(Member::nofailover).into(),
    );
    for k in ["noloadbalance", "nosync", "nostream"] {
        out.insert(k.into(), tag_bool(k).into());
    }
    out.insert(
        "replicatefrom".into(),
        opt_str(tags.get("replicatefrom")).into(),
    );
    out.insert("tags".into(), tags);
    out.insert("apiUrl".into(), opt_str(field("api_url")).into());
    out.insert("patroniVersion".into(), opt_str(field("version")).into());
    out.insert("keyAgeSeconds".into(), key_age.into());
    // The health judgement of a replica (null for the leader key's holder and a member without key).
    let judged = raw
        .filter(|r| c.leader_name() != Some(r.name.as_str()))
        .map(replication);
    out.insert(
        "replication".into(),
        judged.as_ref().map(|j| j.verdict()).into(),
    );
    out.insert(
        "replicationReason".into(),
        judged.as_ref().and_then(|j| j.reason()).into(),
    );
    // A key not refreshed for longer than `ttl` outlives its Patroni as surely as one without a lease.
    let aged = key_age.is_some_and(|a| a > ttl);
    out.insert(
        "staleKey".into(),
        (raw.is_some_and(is_stale) || aged).into(),
    );
    out
}

/// The health summary as machine data.
pub fn health_data(h: &Health) -> Value {
    let scheduled: Vec<Value> = h
        .scheduled
        .iter()
        .map(|s| json!({"action": s.action, "member": s.member, "at": s.at}))
        .collect();
    json!({
        "healthy": h.healthy,
        "verdict": h.verdict.as_str(),
        "problems": h.problems,
        "unknown": h.unknown,
        "leader": h.leader,
        "leaderRunning": h.leader_running,
        "replicas": h.replicas,
        "streaming": h.streaming,
        "worstLagBytes": h.worst_lag_bytes,
        "maximumLagBytes": h.maximum_lag_bytes,
        "paused": h.paused,
        "pendingRestart": h.pending_restart,
        "scheduled": scheduled,
        "staleMembers": h.stale_members,
    })
}

/// The one-line health summary `list --all` prints on stderr after each cluster, e.g.
/// `demo: healthy; leader node1 running, 2/2 replicas streaming, worst lag 0 bytes` or
/// `demo: UNHEALTHY (no leader; node2 stopped); no leader, 0/2 replicas streaming, paused`.
pub fn health_line(label: &str, h: &Health) -> String {
    let mut parts: Vec<String> = Vec::new();
    parts.push(match (&h.leader, h.leader_running) {
        (None, _) => "no leader".into(),
        (Some(l), true) => format!("leader {l} running"),
        (Some(l), false) => format!("leader {l} not running"),
    });
    parts.push(format!("{}/{} replicas streaming", h.streaming, h.replicas));
    if let Some(lag) = h.worst_lag_bytes {
        parts.push(format!("worst lag {lag} bytes"));
    }
    if h.paused {
        parts.push("paused".into());
    }
    if !h.pending_restart.is_empty() {
        parts.push(format!("pending restart: {}", h.pending_restart.join(", ")));
    }
    for s in &h.scheduled {
        let who = match (s.action, &s.member) {
            ("switchover", Some(m)) => format!(" to {m}"),
            (_, Some(m)) => format!(" of {m}"),
            (_, None) => String::new(),
        };
        parts.push(format!("scheduled {}{who} at {}", s.action, s.at));
    }
    if !h.stale_members.is_empty() {
        parts.push(format!("stale member keys: {}", h.stale_members.join(", ")));
    }
    let verdict = match h.verdict {
        Verdict::Healthy => "healthy".to_string(),
        Verdict::Unhealthy => format!("UNHEALTHY ({})", h.problems.join("; ")),
        Verdict::Unknown => format!("UNKNOWN ({})", h.unknown.join("; ")),
    };
    format!("{label}: {verdict}; {}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::health::health;

    use crate::model::fixtures::node as n;

    fn demo() -> Cluster {
        Cluster::from_nodes(&[
            n("initialize", "7712032472125471084", None),
            n("leader", "node1", Some(1)),
            n(
                "members/node1",
                r#"{"conn_url":"postgres://127.0.0.1:5433/postgres","api_url":"http://127.0.0.1:8009/patroni","state":"running","role":"primary","version":"4.1.5","xlog_location":67108960,"timeline":1}"#,
                Some(1),
            ),
            n(
                "members/node2",
                r#"{"conn_url":"postgres://127.0.0.1:5434/postgres","api_url":"http://127.0.0.1:8010/patroni","state":"running","role":"replica","version":"4.1.5","xlog_location":67108000,"replay_lsn":67108000,"receive_lsn":67108960,"replication_state":"streaming","timeline":1,"tags":{"noloadbalance":true,"replicatefrom":"node3"}}"#,
                Some(1),
            ),
            n(
                "members/node3",
                r#"{"conn_url":"postgres://127.0.0.1:5435/postgres","state":"running","role":"replica","xlog_location":67108960,"replication_state":"streaming","timeline":1}"#,
                None,
            ),
            n("status", r#"{"optime":67108960}"#, None),
        ])
    }

    /// The demo cluster's data, lease 1 (node1, node2) granted `granted` seconds with `remaining`
    /// left (no lease answer when `None`); `topology` as `topology -o json`.
    fn demo_data(lease: Option<(Option<f64>, f64)>, topology: bool) -> Value {
        let c = demo();
        let h = health(&c);
        let ttls: KeyTtls = lease
            .map(|(granted, remaining)| (1, KeyTtl { granted, remaining }))
            .into_iter()
            .collect();
        let item = ClusterItem {
            name: "demo",
            namespace: "/service/",
            cluster: &c,
            health: &h,
            ttls: &ttls,
        };
        clusters_data(&[item], None, false, topology)
    }

    #[test]
    fn members_carry_exact_bytes_tags_and_staleness() {
        // Lease 1 (node1, node2) was refreshed 4 s ago.
        let d = demo_data(Some((Some(30.0), 26.0)), false);
        let cl = &d["clusters"][0];
        assert_eq!(cl["name"], "demo");
        assert_eq!(cl["initialize"], "7712032472125471084");
        assert_eq!(cl["health"]["healthy"], false);
        assert_eq!(cl["health"]["staleMembers"], json!(["node3"]));
        let m = &cl["members"];
        assert_eq!(m[0]["role"], "leader");
        assert_eq!(m[0]["receiveLsn"], Value::Null);
        assert_eq!(m[0]["xlogLocation"], 67108960);
        assert_eq!(m[1]["receiveLagBytes"], 0);
        assert_eq!(m[1]["replayLagBytes"], 960);
        assert_eq!(m[1]["noloadbalance"], true);
        assert_eq!(m[1]["replicatefrom"], "node3");
        assert_eq!(m[1]["port"], 5434);
        assert_eq!(m[1]["group"], Value::Null);
        // Only xlog_location, streaming: shown as the receive position, as in the table.
        assert_eq!(m[2]["receiveLsn"], 67108960);
        assert_eq!(m[2]["replayLsn"], Value::Null);
        assert_eq!(m[2]["staleKey"], true);
        assert_eq!(m[2]["tags"], json!({}));
        assert_eq!(m[0]["keyAgeSeconds"], 4.0);
        assert_eq!(m[0]["staleKey"], false);
        assert_eq!(m[2]["keyAgeSeconds"], Value::Null);
    }

    #[test]
    fn a_key_older_than_ttl_is_stale() {
        // An etcd v2 TTL (no grant known): the cluster's ttl (default 30) stands in for it.
        let m = demo_data(Some((None, 12.0)), false)["clusters"][0]["members"].clone();
        assert_eq!(m[1]["keyAgeSeconds"], 18.0);
        assert_eq!(m[1]["staleKey"], false);
        let m = demo_data(Some((Some(60.0), 20.0)), false)["clusters"][0]["members"].clone();
        assert_eq!(m[1]["keyAgeSeconds"], 40.0);
        assert_eq!(m[1]["staleKey"], true);
    }

    #[test]
    fn topology_levels_and_upstreams() {
        let d = demo_data(None, true);
        let got: Vec<(String, Value, Value)> = d["clusters"][0]["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["name"].as_str().unwrap().to_string(),
                    m["level"].clone(),
                    m["upstream"].clone(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("node1".into(), json!(0), Value::Null),
                ("node3".into(), json!(1), json!("node1")),
                ("node2".into(), json!(2), json!("node3")),
            ]
        );
    }

    #[test]
    fn health_lines() {
        let c = demo();
        let h = health(&c);
        assert_eq!(
            health_line("demo", &h),
            "demo: UNHEALTHY (stale member key node3); leader node1 running, 2/2 replicas streaming, worst lag 960 bytes, stale member keys: node3"
        );
        let h = Health {
            healthy: true,
            leader: Some("a".into()),
            leader_running: true,
            paused: true,
            ..Health::default()
        };
        assert_eq!(
            health_line("x", &h),
            "x: healthy; leader a running, 0/0 replicas streaming, paused"
        );
        // Nothing wrong, but a replica's Patroni cannot tell: unknown, not healthy.
        let h = Health {
            verdict: Verdict::Unknown,
            unknown: vec!["b running, Patroni 2.1.7 publishes no replication state".into()],
            leader: Some("a".into()),
            leader_running: true,
            replicas: 1,
            ..Health::default()
        };
        assert_eq!(
            health_line("x", &h),
            "x: UNKNOWN (b running, Patroni 2.1.7 publishes no replication state); leader a running, 0/1 replicas streaming"
        );
        let d = health_data(&h);
        assert_eq!(
            (&d["healthy"], &d["verdict"]),
            (&json!(false), &json!("unknown"))
        );
    }
}
