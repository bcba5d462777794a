//! The member table of `list` and `topology`, mirroring patronictl's `output_members`,
//! `topology_sort` and Patroni's `cluster_as_json` ([`json`]): derived roles, LSN/lag columns
//! with banker's rounding to MiB, conditional extra columns, `host:port` only when needed, the
//! title over the top border, and the service-info footer; printed by [`super::print`]. Pure: a
//! cluster in, text out. [`data`] is the machine form of the same members (`-o json|yaml`) and the
//! health line of `--all`.

pub mod data;
mod json;

use serde_json::Value;

pub use super::print::Format;

use super::print::print_output_painted;
use super::table;
use crate::model::Cluster;
use crate::py::repr::py_str;
use crate::py::truth::truthy;
use json::{cluster_as_json, topology_sort, ClusterJson, LsnCell, MemberJson};

/// Python 3's `round(bytes / 1024 / 1024)`: round half to even.
pub fn lag_mib(bytes: i64) -> i64 {
    (bytes as f64 / 1024.0 / 1024.0).round_ties_even() as i64
}

fn title_case(role: &str) -> String {
    role.split('_')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + &c.as_str().to_lowercase(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Everything `output_members` needs besides the cluster.
pub struct MembersView<'a> {
    /// The cluster name as given on the command line.
    pub name: &'a str,
    /// `-e/--extended`.
    pub extended: bool,
    /// The output format.
    pub fmt: Format,
    /// `--group`.
    pub group: Option<i64>,
    /// Whether the config describes a Citus cluster.
    pub citus: bool,
    /// Colour the Role and State cells (the text is then made safe for a terminal here).
    pub color: bool,
}

/// Render one cluster exactly as `patronictl list` prints it (including the trailing newline).
pub fn render(cluster: &Cluster, view: &MembersView) -> String {
    let initialize = match cluster.initialize.as_deref() {
        None => "uninitialized".to_string(),
        Some("") => "initializing".to_string(),
        Some(s) => s.to_string(),
    };
    let mut columns: Vec<&str> = vec![
        "Cluster",
        "Member",
        "Host",
        "Role",
        "State",
        "TL",
        "Receive LSN",
        "Receive Lag",
        "Replay LSN",
        "Replay Lag",
    ];
    let mut groups: Vec<(i64, &Cluster)> = vec![(view.group.unwrap_or(0), cluster)];
    if view.citus {
        columns.insert(1, "Group");
        if view.group.is_none() {
            groups.extend(cluster.workers.iter().map(|(g, c)| (*g, c)));
        }
    }
    groups.sort_by_key(|(g, _)| *g);
    let parsed: Vec<(i64, ClusterJson)> = groups
        .iter()
        .map(|(g, c)| (*g, cluster_as_json(c)))
        .collect();

    let all_members: Vec<&MemberJson> = parsed
        .iter()
        .flat_map(|(_, p)| p.members.iter())
        .filter(|m| m.host.is_some())
        .collect();
    type Has = fn(&MemberJson) -> bool;
    let extras: [(&str, Has); 4] = [
        ("Pending restart", |m| {
            m.pending_restart.as_ref().is_some_and(truthy)
        }),
        ("Pending restart reason", |m| {
            m.pending_restart_reason.as_ref().is_some_and(truthy)
        }),
        ("Scheduled restart", |m| {
            m.scheduled_restart.as_ref().is_some_and(truthy)
        }),
        ("Tags", |m| m.tags.as_ref().is_some_and(truthy)),
    ];
    for (col, has) in extras {
        if view.extended || all_members.iter().any(|m| has(m)) {
            columns.push(col);
        }
    }
    let append_port = all_members
        .iter()
        .any(|m| m.port.is_some_and(|p| p != 5432))
        || {
            let mut hosts: Vec<&str> = all_members
                .iter()
                .filter_map(|m| m.host.as_deref())
                .collect();
            hosts.sort_unstable();
            hosts.dedup();
            hosts.len() < all_members.len()
        };

    let mut rows: Vec<Vec<Value>> = Vec::new();
    for (g, cj) in &parsed {
        let members = &cj.members;
        let members = if view.fmt == Format::Topology {
            topology_sort(members.clone())
        } else {
            members.clone()
        };
        for m in members {
            rows.push(
                columns
                    .iter()
                    .map(|c| cell(&m, c, *g, view, append_port))
                    .collect(),
            );
        }
    }

    let title = if view.citus {
        match view.group {
            None => format!(" Citus cluster: {} ", view.name),
            Some(g) => format!(" Citus cluster: {} (group: {g}, {initialize}) ", view.name),
        }
    } else {
        format!(" Cluster: {} ({initialize}) ", view.name)
    };
    let mut column_names: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    if view.fmt.is_table() {
        for c in column_names.iter_mut() {
            if c == "Receive Lag" || c == "Replay Lag" {
                *c = "Lag".into();
            }
        }
    }
    let right = ["Group", "Receive LSN", "Replay LSN", "Lag", "TL"];
    let paint: Option<table::Paint> = view.color.then_some(&super::color::member_cell);
    let (title, rows) = if view.color {
        // Coloured text is written raw: what came from the DCS is made harmless first.
        let rows = rows
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|v| match v {
                        Value::String(s) => Value::String(super::sanitize(&s)),
                        other => other,
                    })
                    .collect()
            })
            .collect();
        (super::sanitize(&title), rows)
    } else {
        (title, rows)
    };
    let mut out = print_output_painted(&column_names, rows, &right, view.fmt, &title, paint);
    if view.fmt.is_table() {
        for (g, cj) in &parsed {
            let (paused, switchover) = (&cj.paused, &cj.switchover);
            let mut info: Vec<String> = Vec::new();
            if *paused {
                info.push("Maintenance mode: on".into());
            }
            if let Some((at, from, to)) = switchover {
                let mut s = format!("Switchover scheduled at: {at}");
                if let Some(f) = from {
                    s.push_str(&format!("\n{:>24}: {f}", "from"));
                }
                if let Some(t) = to {
                    s.push_str(&format!("\n{:>24}: {t}", "to"));
                }
                info.push(s);
            }
            if !info.is_empty() {
                if view.citus && view.group.is_none() {
                    out.push_str(&format!("Citus group: {g}\n"));
                }
                let info = info.join("\n ");
                let info = if view.color {
                    super::sanitize(&info)
                } else {
                    info
                };
                out.push_str(&format!(" {info}\n"));
            }
        }
    }
    out
}

fn cell(m: &MemberJson, column: &str, group: i64, view: &MembersView, append_port: bool) -> Value {
    let s = |x: &str| Value::String(x.to_string());
    let lsn = |i: usize, lag: bool| -> Value {
        let Some(cells) = &m.lsns else { return s("") };
        let (mut recv, mut replay) = (cells[0].clone(), cells[1].clone());
        // Members older than 4.1 publish only xlog_location: shown under Receive when streaming.
        if recv == LsnCell::Unknown && replay == LsnCell::Unknown && cells[2] != LsnCell::Unknown {
            if m.state == "streaming" {
                recv = cells[2].clone();
            } else {
                replay = cells[2].clone();
            }
        }
        match (if i == 0 { recv } else { replay }, lag) {
            (LsnCell::Unknown, false) => s("unknown"),
            (LsnCell::Unknown, true) => s(""),
            (LsnCell::Known(l, _), false) => Value::String(l),
            (LsnCell::Known(_, b), true) => Value::from(lag_mib(b)),
        }
    };
    match column {
        "Cluster" => s(view.name),
        "Group" => Value::from(group),
        "Member" => s(&m.name),
        "Host" => match (&m.host, m.port) {
            (Some(h), Some(p)) if append_port => Value::String(format!("{h}:{p}")),
            (Some(h), _) => s(h),
            (None, _) => s(""),
        },
        "Role" => Value::String(title_case(m.role)),
        "State" => s(&m.state),
        "TL" => m.timeline.clone().unwrap_or_else(|| s("")),
        "Receive LSN" => lsn(0, false),
        "Receive Lag" => lsn(0, true),
        "Replay LSN" => lsn(1, false),
        "Replay Lag" => lsn(1, true),
        "Pending restart" => s(if m.pending_restart.as_ref().is_some_and(truthy) {
            "*"
        } else {
            ""
        }),
        "Pending restart reason" => {
            let hide = view.fmt.is_table();
            let lines: Vec<String> = match &m.pending_restart_reason {
                Some(Value::Object(reasons)) => reasons
                    .iter()
                    .map(|(k, v)| {
                        let get = |f: &str| v.get(f).map(py_str).unwrap_or_default();
                        let full = format!("{k}: {}->{}", get("old_value"), get("new_value"));
                        if hide && full.chars().count() > 50 {
                            format!("{k}: [hidden - too long]")
                        } else {
                            full
                        }
                    })
                    .collect(),
                _ => Vec::new(),
            };
            Value::String(lines.join("\n"))
        }
        "Scheduled restart" => match &m.scheduled_restart {
            Some(Value::Object(sr)) => {
                let mut v = sr.get("schedule").map(py_str).unwrap_or_default();
                if let Some(pv) = sr.get("postgres_version") {
                    v.push_str(&format!(" if version < {}", py_str(pv)));
                }
                Value::String(v)
            }
            _ => s(""),
        },
        // An empty `tags: {}` is shown as `{}`, as patronictl's `member.get('tags', '')` gives it.
        "Tags" => m.tags.clone().unwrap_or_else(|| s("")),
        _ => s(""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Node;

    fn n(key: &str, value: &str) -> Node {
        Node {
            key: key.into(),
            value: value.into(),
            version: crate::model::Version::new(1),
            session: None,
        }
    }

    fn view(fmt: Format) -> MembersView<'static> {
        MembersView {
            name: "clean",
            extended: false,
            fmt,
            group: None,
            citus: false,
            color: false,
        }
    }

    /// The paused quorum cluster with a scheduled switchover from reference/patronictl-spec.md §10.
    fn spec_cluster() -> Cluster {
        Cluster::from_nodes(&[
            n("config", r#"{"pause":true,"synchronous_mode":"quorum"}"#),
            n(
                "failover",
                r#"{"leader":"node1","member":"node2","scheduled_at":"2030-01-01T10:00:00+00:00"}"#,
            ),
            n("initialize", "7334869384651563031"),
            n("leader", "node1"),
            n(
                "members/node1",
                r#"{"conn_url":"postgres://10.0.0.1:5432/postgres","state":"running","role":"primary","timeline":5}"#,
            ),
            n(
                "members/node2",
                r#"{"conn_url":"postgres://10.0.0.2:5432/postgres","state":"running","role":"replica","replication_state":"streaming","timeline":5,"receive_lsn":67109208,"replay_lsn":67109208,"xlog_location":67109208}"#,
            ),
            n(
                "members/node3",
                r#"{"conn_url":"postgres://10.0.0.3:5432/postgres","state":"stopped","role":"replica"}"#,
            ),
            n(
                "members/node4",
                r#"{"conn_url":"postgres://10.0.0.4:5432/postgres","state":"in archive recovery","role":"replica","timeline":4,"xlog_location":1000}"#,
            ),
            n("status", r#"{"optime":67109208}"#),
            n(
                "sync",
                r#"{"leader":"node1","sync_standby":"node2","quorum":1}"#,
            ),
        ])
    }

    #[test]
    fn spec_sample_pretty() {
        let want = "\
+ Cluster: clean (7334869384651563031) --------------------+----+-------------+-----+------------+-----+
| Member | Host     | Role           | State               | TL | Receive LSN | Lag | Replay LSN | Lag |
+--------+----------+----------------+---------------------+----+-------------+-----+------------+-----+
| node1  | 10.0.0.1 | Leader         | running             |  5 |             |     |            |     |
| node2  | 10.0.0.2 | Quorum Standby | streaming           |  5 |   0/4000158 |   0 |  0/4000158 |   0 |
| node3  | 10.0.0.3 | Replica        | stopped             |    |     unknown |     |    unknown |     |
| node4  | 10.0.0.4 | Replica        | in archive recovery |  4 |     unknown |     |      0/3E8 |  64 |
+--------+----------+----------------+---------------------+----+-------------+-----+------------+-----+
 Maintenance mode: on
 Switchover scheduled at: 2030-01-01T10:00:00+00:00
                    from: node1
                      to: node2
";
        assert_eq!(render(&spec_cluster(), &view(Format::Pretty)), want);
    }

    #[test]
    fn spec_sample_json() {
        let got = render(&spec_cluster(), &view(Format::Json));
        assert!(got.starts_with(r#"[{"Cluster": "clean", "Member": "node1", "Host": "10.0.0.1", "Role": "Leader", "State": "running", "TL": 5}, {"Cluster": "clean", "Member": "node2", "Host": "10.0.0.2", "Role": "Quorum Standby", "State": "streaming", "TL": 5, "Receive LSN": "0/4000158", "Receive Lag": 0, "Replay LSN": "0/4000158", "Replay Lag": 0}, {"Cluster": "clean", "Member": "node3", "Host": "10.0.0.3", "Role": "Replica", "State": "stopped", "Receive LSN": "unknown", "Replay LSN": "unknown"}, "#), "{got}");
        assert!(got.ends_with("}]\n"));
    }

    #[test]
    fn banker_rounding() {
        assert_eq!(lag_mib(1048576 * 3 / 2), 2);
        assert_eq!(lag_mib(1048576 * 5 / 2), 2);
        assert_eq!(lag_mib(1048576 / 2), 0);
        assert_eq!(lag_mib(1048576 / 2 + 1), 1);
    }

    #[test]
    fn topology_tree_and_cycles() {
        let m = |name: &str, tags: &str| {
            n(
                &format!("members/{name}"),
                &format!(
                    r#"{{"conn_url":"postgres://127.0.0.1:5432/postgres","state":"running","tags":{tags}}}"#
                ),
            )
        };
        let c = Cluster::from_nodes(&[
            n("leader", "pg1"),
            m("pg1", "{}"),
            m("pg2", "{}"),
            m("pg3", r#"{"replicatefrom":"pg2"}"#),
            m("pg4", r#"{"replicatefrom":"pg5"}"#),
            m("pg5", r#"{"replicatefrom":"pg4"}"#),
        ]);
        let names: Vec<String> = topology_sort(cluster_as_json(&c).members)
            .into_iter()
            .map(|m| m.name)
            .collect();
        assert_eq!(names, vec!["pg1", "+ pg2", "  + pg3"]);
    }

    #[test]
    fn empty_cluster_and_uninitialized_title() {
        let got = render(
            &Cluster::default(),
            &MembersView {
                name: "nosuch",
                ..view(Format::Pretty)
            },
        );
        assert!(
            got.starts_with("+ Cluster: nosuch (uninitialized) --+"),
            "{got}"
        );
        assert_eq!(got.lines().count(), 4);
    }
}
