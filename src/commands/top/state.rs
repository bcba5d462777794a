//! What `top` shows, as data: the clusters as the DCS stream last gave them, when each member key
//! last changed, the latest events, the selection and whether details are open. Updated only by
//! [`State::apply`] (a stream update) and [`State::key`] (a key press); no I/O, so it is tested as is.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use chrono::{DateTime, Local};
use serde_json::Value;

use crate::commands::events::diff::{self, Event, EventType};
use crate::dcs::Update;
use crate::model::{Cluster, Member};

/// How many events the pane keeps.
pub const EVENTS_KEPT: usize = 200;

/// One member row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The cluster (scope).
    pub cluster: String,
    /// The member name.
    pub member: String,
    /// `Leader`, `Replica`, `Standby Leader`, `Sync Standby`, `Quorum Standby`.
    pub role: String,
    /// The member's state.
    pub state: String,
    /// Its timeline, when it says.
    pub timeline: Option<i64>,
    /// Receive lag in bytes (`None`: the leader, or not known).
    pub receive_lag: Option<i64>,
    /// Replay lag in bytes.
    pub replay_lag: Option<i64>,
    /// A restart is pending.
    pub pending_restart: bool,
    /// Tags as compact JSON (empty when none).
    pub tags: String,
    /// Seconds since the member key last changed.
    pub age_seconds: Option<f64>,
}

/// A key press, as far as `top` cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// `q`, Ctrl-C.
    Quit,
    /// Esc: close the details, else quit.
    Escape,
    /// Up, `k`.
    Up,
    /// Down, `j`.
    Down,
    /// Home, `g`.
    First,
    /// End, `G`.
    Last,
    /// Page up.
    PageUp,
    /// Page down.
    PageDown,
    /// Enter, `d`: open or close the details of the selected member.
    Details,
}

/// What the caller does after a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Draw again.
    Redraw,
    /// Leave.
    Quit,
}

/// Everything `top` shows.
#[derive(Debug, Default)]
pub struct State {
    /// The clusters, by scope.
    pub clusters: BTreeMap<String, Cluster>,
    /// When each (cluster, member) key last changed.
    pub seen: BTreeMap<(String, String), (Option<crate::dcs::Version>, Instant)>,
    /// The latest events, newest last, with the local time they were seen.
    pub events: VecDeque<(DateTime<Local>, Event)>,
    /// The index of the selected row.
    pub selected: usize,
    /// Whether the selected member's details are open.
    pub details: bool,
    /// Whether every cluster of the namespace is shown.
    pub all: bool,
    /// What the stream is connected to.
    pub dcs: String,
    /// Whether the DCS answers.
    pub connected: bool,
    /// The last DCS revision seen.
    pub revision: Option<i64>,
}

impl State {
    /// The state of a stream that just opened.
    pub fn new(
        clusters: BTreeMap<String, Cluster>,
        all: bool,
        dcs: String,
        revision: Option<i64>,
    ) -> State {
        let mut s = State {
            all,
            dcs,
            connected: true,
            revision,
            ..State::default()
        };
        let now = Instant::now();
        for (scope, c) in &clusters {
            s.touch(scope, c, now);
        }
        s.clusters = clusters;
        s
    }

    fn touch(&mut self, scope: &str, c: &Cluster, now: Instant) {
        for m in &c.members {
            let key = (scope.to_string(), m.name.clone());
            match self.seen.get(&key) {
                Some((v, _)) if *v == m.version => {}
                _ => {
                    self.seen.insert(key, (m.version, now));
                }
            }
        }
    }

    fn push(&mut self, e: Event) {
        if self.events.len() == EVENTS_KEPT {
            self.events.pop_front();
        }
        self.events.push_back((Local::now(), e));
    }

    /// Take in one stream update.
    pub fn apply(&mut self, u: Update) {
        let now = Instant::now();
        let (revision, clusters) = match u {
            Update::Changed { revision, clusters } => (revision, clusters),
            Update::Resynced { revision, clusters } => {
                self.push(Event::new(EventType::Resync, "", revision));
                (revision, clusters)
            }
            Update::Reconnected(to) => {
                let mut e = Event::new(EventType::DcsReconnected, "", self.revision);
                e.detail = Some(to);
                self.push(e);
                return;
            }
        };
        self.revision = revision.or(self.revision);
        for (scope, new) in clusters {
            for e in diff::diff(&scope, revision, self.clusters.get(&scope), new.as_ref()) {
                self.push(e);
            }
            match new {
                Some(c) => {
                    self.touch(&scope, &c, now);
                    self.clusters.insert(scope, c);
                }
                None => {
                    self.clusters.remove(&scope);
                    self.seen.retain(|(s, _), _| *s != scope);
                }
            }
        }
        self.clamp();
    }

    /// The DCS stopped answering (`Some(why)`) or answers again (`None`).
    pub fn set_connected(&mut self, why: Option<String>) {
        match why {
            Some(why) if self.connected => {
                self.connected = false;
                let mut e = Event::new(EventType::DcsDisconnected, "", self.revision);
                e.detail = Some(why);
                self.push(e);
            }
            None if !self.connected => {
                self.connected = true;
                let mut e = Event::new(EventType::DcsReconnected, "", self.revision);
                e.detail = Some(self.dcs.clone());
                self.push(e);
            }
            _ => {}
        }
    }

    fn clamp(&mut self) {
        let n = self.row_count();
        if self.selected >= n {
            self.selected = n.saturating_sub(1);
        }
    }

    /// How many member rows there are.
    pub fn row_count(&self) -> usize {
        self.clusters.values().map(|c| c.members.len()).sum()
    }

    /// Handle a key; `page` is how many rows one screen shows.
    pub fn key(&mut self, k: Key, page: usize) -> After {
        let last = self.row_count().saturating_sub(1);
        match k {
            Key::Quit => return After::Quit,
            Key::Escape if self.details => self.details = false,
            Key::Escape => return After::Quit,
            Key::Up => self.selected = self.selected.saturating_sub(1),
            Key::Down => self.selected = (self.selected + 1).min(last),
            Key::First => self.selected = 0,
            Key::Last => self.selected = last,
            Key::PageUp => self.selected = self.selected.saturating_sub(page.max(1)),
            Key::PageDown => self.selected = (self.selected + page.max(1)).min(last),
            Key::Details => self.details = !self.details,
        }
        After::Redraw
    }

    /// Every member row, cluster by cluster, leader first.
    pub fn rows(&self, now: Instant) -> Vec<Row> {
        self.rows_window(now, 0, usize::MAX)
    }

    /// The rows `start..start + len` only (what fits on the screen: with `--all` over many clusters
    /// the others are not built).
    pub fn rows_window(&self, now: Instant, start: usize, len: usize) -> Vec<Row> {
        let mut out = Vec::new();
        let mut i = 0;
        for (scope, c) in &self.clusters {
            if out.len() >= len {
                break;
            }
            if i + c.members.len() <= start {
                i += c.members.len();
                continue;
            }
            for m in c.members_leader_first() {
                if i >= start && out.len() < len {
                    out.push(self.row(scope, c, m, now));
                }
                i += 1;
            }
        }
        out
    }

    /// The selected member, with its cluster.
    pub fn selected_member(&self) -> Option<(&str, &Cluster, &Member)> {
        let mut i = self.selected;
        for (scope, c) in &self.clusters {
            let ms = c.members_leader_first();
            if i < ms.len() {
                return Some((scope.as_str(), c, ms[i]));
            }
            i -= ms.len();
        }
        None
    }

    fn row(&self, scope: &str, c: &Cluster, m: &Member, now: Instant) -> Row {
        let leader = c.leader_name() == Some(m.name.as_str());
        let role = if leader {
            if c.is_standby_cluster() {
                "Standby Leader"
            } else {
                "Leader"
            }
        } else if c.sync_matches(&m.name, false) {
            if c.is_quorum_commit_mode() {
                "Quorum Standby"
            } else {
                "Sync Standby"
            }
        } else {
            "Replica"
        };
        let cluster_lsn = c
            .leader_member()
            .and_then(|l| l.lsn_field("xlog_location"))
            .filter(|l| *l > 0)
            .unwrap_or(i64::try_from(c.optime).unwrap_or(0));
        let lag = |key: &str| {
            if leader {
                return None;
            }
            let lsn = m.lsn_field(key).filter(|l| *l > 0)?;
            Some((cluster_lsn - lsn).max(0))
        };
        let tags = m
            .tags()
            .filter(|t| !t.is_empty())
            .map(|t| Value::Object(t.clone()).to_string())
            .unwrap_or_default();
        Row {
            cluster: scope.to_string(),
            member: m.name.clone(),
            role: role.to_string(),
            // As `list`: a running replica shows how it replicates (`streaming`, `in archive recovery`).
            state: match m.str_field("replication_state") {
                Some(r) if !leader && m.state() == "running" => r.to_string(),
                _ => m.state().to_string(),
            },
            timeline: m.data.get("timeline").and_then(crate::model::parse_int),
            receive_lag: lag("receive_lsn"),
            replay_lag: lag("replay_lsn"),
            pending_restart: m
                .data
                .get("pending_restart")
                .and_then(crate::model::parse_bool)
                .unwrap_or(false),
            tags,
            age_seconds: self
                .seen
                .get(&(scope.to_string(), m.name.clone()))
                .map(|(_, at)| now.saturating_duration_since(*at).as_secs_f64()),
        }
    }
}

/// Bytes in human units and exactly: `0 B`, `12.0 KiB (12288)`.
pub fn human_bytes(b: i64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if b < 1024 {
        return format!("{b} B");
    }
    let mut v = b as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {} ({b})", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dcs::Version;
    use crate::model::Node;

    fn cluster(keys: &[(&str, &str)]) -> Cluster {
        let nodes: Vec<Node> = keys
            .iter()
            .enumerate()
            .map(|(i, (k, v))| Node {
                key: k.to_string(),
                value: v.to_string(),
                version: Version::new(i as i64 + 1),
                session: None,
            })
            .collect();
        Cluster::from_nodes(&nodes)
    }

    fn demo(leader: &str) -> Cluster {
        cluster(&[
            ("config", r#"{"synchronous_mode":true}"#),
            ("leader", leader),
            ("sync", r#"{"leader":"n1","sync_standby":"n3"}"#),
            (
                "members/n1",
                r#"{"role":"primary","state":"running","timeline":2,"xlog_location":5000}"#,
            ),
            (
                "members/n2",
                r#"{"role":"replica","state":"streaming","timeline":2,"receive_lsn":4000,"replay_lsn":1000,"tags":{"nofailover":true},"pending_restart":true}"#,
            ),
            (
                "members/n3",
                r#"{"role":"replica","state":"streaming","timeline":2,"receive_lsn":5000,"replay_lsn":5000}"#,
            ),
        ])
    }

    #[test]
    fn rows_lags_roles_and_selection() {
        let mut s = State::new(
            [("demo".to_string(), demo("n1"))].into(),
            false,
            "memory".into(),
            Some(1),
        );
        let rows = s.rows(Instant::now());
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].role, "Leader");
        assert_eq!(rows[0].receive_lag, None);
        assert_eq!(rows[1].receive_lag, Some(1000));
        assert_eq!(rows[1].replay_lag, Some(4000));
        assert!(rows[1].pending_restart);
        assert_eq!(rows[1].tags, r#"{"nofailover":true}"#);
        assert_eq!(rows[2].role, "Sync Standby");
        assert_eq!(s.key(Key::Down, 10), After::Redraw);
        assert_eq!(s.selected_member().unwrap().2.name, "n2");
        s.key(Key::Last, 10);
        s.key(Key::Down, 10);
        assert_eq!(s.selected, 2);
        s.key(Key::Details, 10);
        assert!(s.details);
        assert_eq!(s.key(Key::Escape, 10), After::Redraw);
        assert!(!s.details);
        assert_eq!(s.key(Key::Escape, 10), After::Quit);
        assert_eq!(s.key(Key::Quit, 10), After::Quit);
    }

    #[test]
    fn updates_become_events_and_remove_rows() {
        let mut s = State::new(
            [("demo".to_string(), demo("n1"))].into(),
            true,
            "memory".into(),
            Some(1),
        );
        s.selected = 2;
        s.apply(Update::Changed {
            revision: Some(9),
            clusters: [("demo".to_string(), Some(demo("n2")))].into(),
        });
        assert_eq!(s.events.back().unwrap().1.kind, EventType::LeaderChange);
        assert_eq!(s.revision, Some(9));
        s.apply(Update::Changed {
            revision: Some(10),
            clusters: [("demo".to_string(), None)].into(),
        });
        assert_eq!(s.row_count(), 0);
        assert_eq!(s.selected, 0);
        assert_eq!(s.events.back().unwrap().1.kind, EventType::ClusterRemoved);
        s.set_connected(Some("gone".into()));
        s.set_connected(Some("still gone".into()));
        s.set_connected(None);
        let kinds: Vec<EventType> = s.events.iter().map(|(_, e)| e.kind).collect();
        assert_eq!(
            &kinds[kinds.len() - 2..],
            [EventType::DcsDisconnected, EventType::DcsReconnected]
        );
    }

    #[test]
    fn human_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(16 * 1024 * 1024), "16.0 MiB (16777216)");
    }
}
