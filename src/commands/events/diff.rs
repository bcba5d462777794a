//! What changed between two states of a cluster, as typed events: a pure function of the two
//! [`Cluster`]s, shared by `events` and `top`'s event pane.
//!
//! patronictl has nothing like it; the event names follow what Patroni itself logs and what its keys
//! mean: the `leader` key (a leader change, with the new leader's timeline), `members/<name>`
//! (joined, left, role and state), `config` (the top-level keys that differ, and `pause`), `failover`
//! (a switchover requested, scheduled, or cleared), `sync` and `history`.

use serde_json::{json, Map, Value};

use crate::model::health::health;
use crate::model::health::replica::role_name;
use crate::model::{Cluster, Member};

/// The kinds of event, as named in the output (`leader-change`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EventType {
    /// The leader key appeared, went, or names another member.
    LeaderChange,
    /// A member key appeared.
    MemberJoined,
    /// A member key went.
    MemberLeft,
    /// A member's `role` changed.
    RoleChange,
    /// A member's `state` changed.
    StateChange,
    /// The cluster's health verdict changed (healthy, unhealthy, unknown:
    /// [`crate::model::health`]), with the problems found.
    HealthChange,
    /// The dynamic configuration changed (the keys that differ).
    ConfigChange,
    /// Maintenance mode switched on.
    Pause,
    /// Maintenance mode switched off.
    Resume,
    /// A switchover or failover was requested (or scheduled).
    FailoverSet,
    /// The failover key was removed.
    FailoverCleared,
    /// The synchronous standbys changed.
    SyncChange,
    /// A line was added to the timeline history.
    HistoryAppended,
    /// The cluster's first key appeared.
    ClusterCreated,
    /// The cluster's last key went.
    ClusterRemoved,
    /// The DCS connection broke; the stream is trying again.
    DcsDisconnected,
    /// The stream reconnected (to another endpoint).
    DcsReconnected,
    /// The stream read the cluster again after its history was lost: changes in between may be
    /// missing.
    Resync,
}

impl EventType {
    /// The name in the output.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::LeaderChange => "leader-change",
            EventType::MemberJoined => "member-joined",
            EventType::MemberLeft => "member-left",
            EventType::RoleChange => "role-change",
            EventType::StateChange => "state-change",
            EventType::HealthChange => "health-change",
            EventType::ConfigChange => "config-change",
            EventType::Pause => "pause",
            EventType::Resume => "resume",
            EventType::FailoverSet => "failover-set",
            EventType::FailoverCleared => "failover-cleared",
            EventType::SyncChange => "sync-change",
            EventType::HistoryAppended => "history-appended",
            EventType::ClusterCreated => "cluster-created",
            EventType::ClusterRemoved => "cluster-removed",
            EventType::DcsDisconnected => "dcs-disconnected",
            EventType::DcsReconnected => "dcs-reconnected",
            EventType::Resync => "resync",
        }
    }
}

/// One event: what happened to which cluster at which revision.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// What happened.
    pub kind: EventType,
    /// The cluster (scope); empty for stream notices about the DCS.
    pub cluster: String,
    /// The Citus group, for a worker group's change.
    pub group: Option<i64>,
    /// The DCS revision of the change (`None` where the store has none).
    pub revision: Option<i64>,
    /// The member concerned, if one is.
    pub member: Option<String>,
    /// The value before.
    pub from: Value,
    /// The value after.
    pub to: Value,
    /// The timeline (leader change: the new leader's; history: the line's).
    pub timeline: Option<i64>,
    /// Configuration keys that changed.
    pub keys: Vec<String>,
    /// The scheduled time of a scheduled switchover.
    pub scheduled_at: Option<String>,
    /// Free text for notices (the endpoint, the reason).
    pub detail: Option<String>,
}

impl Event {
    /// An event of `kind` on `cluster` with nothing else set.
    pub fn new(kind: EventType, cluster: &str, revision: Option<i64>) -> Event {
        Event {
            kind,
            cluster: cluster.to_string(),
            group: None,
            revision,
            member: None,
            from: Value::Null,
            to: Value::Null,
            timeline: None,
            keys: Vec::new(),
            scheduled_at: None,
            detail: None,
        }
    }

    /// The `data` of the machine envelope (camelCase, every key present, `null` when absent).
    pub fn to_json(&self) -> Value {
        json!({
            "type": self.kind.as_str(),
            "cluster": self.cluster,
            "group": self.group,
            "revision": self.revision,
            "member": self.member,
            "from": self.from,
            "to": self.to,
            "timeline": self.timeline,
            "keys": self.keys,
            "scheduledAt": self.scheduled_at,
            "detail": self.detail,
        })
    }

    /// One readable line (without the time): `demo leader-change node1 -> node2 (timeline 3)`.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        if !self.cluster.is_empty() {
            s.push_str(&self.cluster);
            if let Some(g) = self.group {
                s.push_str(&format!(" (group {g})"));
            }
            s.push(' ');
        }
        s.push_str(self.kind.as_str());
        if let Some(m) = &self.member {
            s.push(' ');
            s.push_str(m);
        }
        let show = |v: &Value| match v {
            Value::Null => "none".to_string(),
            Value::String(t) => t.clone(),
            Value::Array(a) if a.is_empty() => "none".to_string(),
            Value::Array(a) => a
                .iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), String::from))
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        };
        if !self.from.is_null() || !self.to.is_null() {
            s.push_str(&format!(": {} -> {}", show(&self.from), show(&self.to)));
        }
        if !self.keys.is_empty() {
            s.push_str(&format!(": {}", self.keys.join(", ")));
        }
        if let Some(t) = self.timeline {
            s.push_str(&format!(" (timeline {t})"));
        }
        if let Some(at) = &self.scheduled_at {
            s.push_str(&format!(" scheduled at {at}"));
        }
        if let Some(d) = &self.detail {
            s.push_str(&format!(" ({d})"));
        }
        s
    }
}

/// The events that take a cluster from `old` to `new` (`None`: no key at all), in a fixed order:
/// cluster created, leader, members (left, joined, role, state), config, failover, sync, history,
/// cluster removed. Citus worker groups are compared group by group.
pub fn diff(
    cluster: &str,
    revision: Option<i64>,
    old: Option<&Cluster>,
    new: Option<&Cluster>,
) -> Vec<Event> {
    let mut out = Vec::new();
    let empty = Cluster::default();
    if old.is_none() && new.is_some() {
        out.push(Event::new(EventType::ClusterCreated, cluster, revision));
    }
    let (o, n) = (old.unwrap_or(&empty), new.unwrap_or(&empty));
    diff_group(&mut out, cluster, None, revision, o, n);
    let mut groups: Vec<i64> = o
        .workers
        .iter()
        .chain(&n.workers)
        .map(|(g, _)| *g)
        .collect();
    groups.sort_unstable();
    groups.dedup();
    for g in groups {
        let find = |c: &Cluster| {
            c.workers
                .iter()
                .find(|(x, _)| *x == g)
                .map(|(_, w)| w.clone())
        };
        let (ow, nw) = (find(o).unwrap_or_default(), find(n).unwrap_or_default());
        diff_group(&mut out, cluster, Some(g), revision, &ow, &nw);
    }
    if let (Some(o), Some(n)) = (old, new) {
        let (ho, hn) = (health(o), health(n));
        if ho.verdict != hn.verdict {
            let mut why = hn.problems.clone();
            why.extend(hn.unknown.iter().cloned());
            out.push(Event {
                from: ho.verdict.as_str().into(),
                to: hn.verdict.as_str().into(),
                detail: (!why.is_empty()).then(|| why.join("; ")),
                ..Event::new(EventType::HealthChange, cluster, revision)
            });
        }
    }
    if old.is_some() && new.is_none() {
        out.push(Event::new(EventType::ClusterRemoved, cluster, revision));
    }
    out
}

fn diff_group(
    out: &mut Vec<Event>,
    cluster: &str,
    group: Option<i64>,
    revision: Option<i64>,
    o: &Cluster,
    n: &Cluster,
) {
    let ev = |kind| Event {
        group,
        ..Event::new(kind, cluster, revision)
    };
    if o.leader_name() != n.leader_name() {
        out.push(Event {
            from: opt(o.leader_name()),
            to: opt(n.leader_name()),
            timeline: n.leader_name().and_then(|_| timeline(n)),
            ..ev(EventType::LeaderChange)
        });
    }
    for m in &o.members {
        if n.member(&m.name).is_none() {
            out.push(Event {
                member: Some(m.name.clone()),
                ..ev(EventType::MemberLeft)
            });
        }
    }
    for m in &n.members {
        let Some(before) = o.member(&m.name) else {
            out.push(Event {
                member: Some(m.name.clone()),
                to: json!({"role": m.str_field("role").map(role_name), "state": m.str_field("state")}),
                ..ev(EventType::MemberJoined)
            });
            continue;
        };
        for (field, kind) in [
            ("role", EventType::RoleChange),
            ("state", EventType::StateChange),
        ] {
            // Patroni 3.x writes `master`: shown as `primary`, as 4.x writes it.
            let named = |x: &Member| {
                x.str_field(field)
                    .map(|v| if field == "role" { role_name(v) } else { v })
                    .map(String::from)
            };
            if named(before) != named(m) {
                out.push(Event {
                    member: Some(m.name.clone()),
                    from: opt(named(before).as_deref()),
                    to: opt(named(m).as_deref()),
                    ..ev(kind)
                });
            }
        }
    }
    let (oc, nc) = (config_map(o), config_map(n));
    if oc != nc {
        let mut keys: Vec<String> = oc
            .keys()
            .chain(nc.keys())
            .filter(|k| oc.get(*k) != nc.get(*k))
            .cloned()
            .collect();
        keys.sort();
        keys.dedup();
        out.push(Event {
            keys,
            ..ev(EventType::ConfigChange)
        });
        match (o.is_paused(), n.is_paused()) {
            (false, true) => out.push(ev(EventType::Pause)),
            (true, false) => out.push(ev(EventType::Resume)),
            _ => {}
        }
    }
    match (&o.failover, &n.failover) {
        (_, Some(f))
            if o.failover
                .as_ref()
                .map(|x| (&x.leader, &x.candidate, &x.scheduled_at))
                != Some((&f.leader, &f.candidate, &f.scheduled_at)) =>
        {
            out.push(Event {
                from: opt(f.leader.as_deref()),
                to: opt(f.candidate.as_deref()),
                scheduled_at: f.scheduled_at.clone(),
                ..ev(EventType::FailoverSet)
            })
        }
        (Some(_), None) => out.push(ev(EventType::FailoverCleared)),
        _ => {}
    }
    let sync = |c: &Cluster| {
        c.sync
            .as_ref()
            .map(|s| s.sync_standby.clone())
            .unwrap_or_default()
    };
    if sync(o) != sync(n) {
        out.push(Event {
            from: sync(o).into(),
            to: sync(n).into(),
            ..ev(EventType::SyncChange)
        });
    }
    if n.history.len() > o.history.len() {
        // A line `[TL, LSN, reason, time, new leader]` says that timeline TL ended and TL+1 began.
        for line in &n.history[o.history.len()..] {
            let ended = line.first().and_then(Value::as_i64);
            out.push(Event {
                member: line.get(4).and_then(Value::as_str).map(String::from),
                from: ended.map_or(Value::Null, Value::from),
                to: ended.map_or(Value::Null, |t| Value::from(t + 1)),
                timeline: ended.map(|t| t + 1),
                detail: line.get(2).and_then(Value::as_str).map(String::from),
                ..ev(EventType::HistoryAppended)
            });
        }
    }
}

fn opt(s: Option<&str>) -> Value {
    s.map_or(Value::Null, |s| Value::String(s.to_string()))
}

fn config_map(c: &Cluster) -> Map<String, Value> {
    c.config
        .as_ref()
        .map(|c| c.data.clone())
        .unwrap_or_default()
}

/// The leader's timeline: the later of its member key's `timeline` and the one the last history
/// line began (a new leader's member key still names the old timeline until it has promoted).
pub fn timeline(c: &Cluster) -> Option<i64> {
    let from_member = c
        .leader_member()
        .and_then(|m: &Member| m.data.get("timeline"))
        .and_then(crate::model::parse_int);
    let from_history = c
        .history
        .last()
        .and_then(|l| l.first())
        .and_then(Value::as_i64)
        .map(|t| t + 1);
    from_member.max(from_history)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::fixtures::cluster;

    fn kinds(evs: &[Event]) -> Vec<&'static str> {
        evs.iter().map(|e| e.kind.as_str()).collect()
    }

    #[test]
    fn switchover_sequence() {
        let before = cluster(&[
            ("config", r#"{"ttl":30}"#),
            ("leader", "n1"),
            (
                "members/n1",
                r#"{"role":"primary","state":"running","timeline":2}"#,
            ),
            ("members/n2", r#"{"role":"replica","state":"streaming"}"#),
        ]);
        let requested = cluster(&[
            ("config", r#"{"ttl":30}"#),
            ("leader", "n1"),
            ("failover", r#"{"leader":"n1","member":"n2"}"#),
            (
                "members/n1",
                r#"{"role":"primary","state":"running","timeline":2}"#,
            ),
            ("members/n2", r#"{"role":"replica","state":"streaming"}"#),
        ]);
        let e = diff("demo", Some(7), Some(&before), Some(&requested));
        assert_eq!(kinds(&e), ["failover-set"]);
        assert_eq!(e[0].to_json()["from"], "n1");
        assert_eq!(e[0].to_json()["to"], "n2");
        assert_eq!(e[0].revision, Some(7));
        let after = cluster(&[
            ("config", r#"{"ttl":30}"#),
            ("leader", "n2"),
            (
                "history",
                r#"[[2,100,"no recovery target specified","2026-01-01T00:00:00+00:00","n2"]]"#,
            ),
            (
                "members/n1",
                r#"{"role":"replica","state":"stopped","timeline":2}"#,
            ),
            (
                "members/n2",
                r#"{"role":"primary","state":"running","timeline":3}"#,
            ),
        ]);
        let e = diff("demo", None, Some(&requested), Some(&after));
        assert_eq!(
            kinds(&e),
            [
                "leader-change",
                "role-change",
                "state-change",
                "role-change",
                "state-change",
                "failover-cleared",
                "history-appended"
            ]
        );
        assert_eq!(e[0].timeline, Some(3));
        assert_eq!(e[0].describe(), "demo leader-change: n1 -> n2 (timeline 3)");
        assert_eq!(e[6].timeline, Some(3));
        assert_eq!(
            e[6].describe(),
            "demo history-appended n2: 2 -> 3 (timeline 3) (no recovery target specified)"
        );
    }

    #[test]
    fn config_pause_members_and_clusters() {
        let a = cluster(&[("config", r#"{"ttl":30,"loop_wait":10}"#)]);
        let b = cluster(&[
            ("config", r#"{"ttl":20,"loop_wait":10,"pause":true}"#),
            ("members/n3", r#"{"role":"replica","state":"starting"}"#),
        ]);
        let e = diff("demo", None, Some(&a), Some(&b));
        assert_eq!(kinds(&e), ["member-joined", "config-change", "pause"]);
        assert_eq!(e[1].keys, ["pause", "ttl"]);
        assert_eq!(e[1].describe(), "demo config-change: pause, ttl");
        let e = diff("demo", None, Some(&b), Some(&a));
        assert_eq!(kinds(&e), ["member-left", "config-change", "resume"]);
        assert_eq!(
            kinds(&diff("x", None, None, Some(&a))),
            ["cluster-created", "config-change"]
        );
        assert_eq!(
            kinds(&diff("x", None, Some(&a), None)),
            ["config-change", "cluster-removed"]
        );
        assert!(diff("x", None, Some(&a), Some(&a.clone())).is_empty());
    }

    #[test]
    fn member_key_refreshes_are_not_events() {
        let a = cluster(&[(
            "members/n1",
            r#"{"role":"replica","state":"streaming","xlog_location":1}"#,
        )]);
        let b = cluster(&[(
            "members/n1",
            r#"{"role":"replica","state":"streaming","xlog_location":9}"#,
        )]);
        assert!(diff("demo", None, Some(&a), Some(&b)).is_empty());
    }
}
