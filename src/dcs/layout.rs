//! Where a cluster's keys live in a key-value DCS, once for every back end (etcd v2, etcd v3,
//! ZooKeeper): `/<namespace>/<scope>/[<group>/]{config,failover,leader,members/<name>,…}`, as Patroni's
//! `AbstractDCS.client_path` builds them (runs of `/` collapsed), and the Citus rules patronictl applies
//! on top.
//!
//! Citus (an MPP cluster: a `citus` section in the configuration) keeps one group per directory under
//! the scope. Without `--group`, a read takes the whole scope and splits it into the coordinator
//! (group 0) and its workers, as patronictl's `get_dcs` does by making the client a coordinator; a
//! write then addresses the coordinator, the group whose keys that read returned.

use std::collections::BTreeMap;

use crate::config::Settings;
use crate::model::{Cluster, Node};

/// The dynamic configuration key.
pub const CONFIG: &str = "config";
/// The failover (switchover request) key.
pub const FAILOVER: &str = "failover";
/// The Citus coordinator's group.
pub const COORDINATOR_GROUP: i64 = 0;

/// The key layout of one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    namespace: String,
    citus: bool,
}

impl Layout {
    /// The layout of `namespace` (`/service/`, `service`, …), Citus or not.
    pub fn new(namespace: &str, citus: bool) -> Layout {
        Layout {
            namespace: namespace.to_string(),
            citus,
        }
    }

    /// The layout the configuration names: its `namespace` and whether it has a `citus` section.
    pub fn of(settings: &Settings) -> Layout {
        Layout::new(&settings.namespace, settings.citus)
    }

    /// Whether the clusters are Citus clusters.
    pub fn citus(&self) -> bool {
        self.citus
    }

    /// `/<namespace>/`.
    pub fn namespace_dir(&self) -> String {
        normalize(&format!("/{}/", self.namespace))
    }

    /// `/<namespace>/<scope>/`, plus `<group>/` when a group is given.
    pub fn cluster_dir(&self, scope: &str, group: Option<i64>) -> String {
        let mut p = format!("/{}/{}", self.namespace, scope);
        if let Some(g) = group {
            p.push_str(&format!("/{g}"));
        }
        normalize(&p)
    }

    /// What a read of the cluster takes: the directory, and whether it holds Citus groups to split
    /// (Citus without a group: the whole scope).
    pub fn read_dir(&self, scope: &str, group: Option<i64>) -> (String, bool) {
        let mpp = self.citus && group.is_none();
        (self.cluster_dir(scope, group), mpp)
    }

    /// The group a write addresses: the one given, else on Citus the coordinator.
    pub fn write_group(&self, group: Option<i64>) -> Option<i64> {
        group.or(self.citus.then_some(COORDINATOR_GROUP))
    }

    /// The directory a write (or delete) of the cluster addresses.
    pub fn write_dir(&self, scope: &str, group: Option<i64>) -> String {
        self.cluster_dir(scope, self.write_group(group))
    }

    /// The absolute path of one key of the cluster (`name` relative to its directory).
    pub fn key(&self, scope: &str, group: Option<i64>, name: &str) -> String {
        self.write_dir(scope, group) + name
    }

    /// Split a key relative to the namespace into its scope and the key inside that cluster; `None`
    /// for a key outside every cluster (no scope, or nothing after it).
    pub fn split_scope(rel: &str) -> Option<(&str, &str)> {
        rel.split_once('/')
            .filter(|(scope, rest)| !scope.is_empty() && !rest.is_empty())
    }

    /// Assemble one read of a cluster's directory ([`Layout::read_dir`]): a whole Citus scope
    /// (`mpp`, keys `<group>/<key>`) split into its groups for [`Cluster::from_groups`] (a key
    /// outside every group is left out), any other as [`Cluster::from_nodes`].
    pub fn assemble(nodes: &[Node], mpp: bool) -> Cluster {
        if !mpp {
            return Cluster::from_nodes(nodes);
        }
        let mut groups: BTreeMap<i64, Vec<Node>> = BTreeMap::new();
        for n in nodes {
            if let Some((g, rest)) = n.key.split_once('/') {
                if let Some(gi) = Layout::parse_group(g) {
                    groups.entry(gi).or_default().push(Node {
                        key: rest.to_string(),
                        ..n.clone()
                    });
                }
            }
        }
        Cluster::from_groups(COORDINATOR_GROUP, groups)
    }

    /// The group of a directory name under a Citus scope: `0`, or digits without a leading zero.
    pub fn parse_group(dir: &str) -> Option<i64> {
        let digits = !dir.is_empty() && dir.bytes().all(|b| b.is_ascii_digit());
        if dir == "0" || (digits && !dir.starts_with('0')) {
            dir.parse().ok()
        } else {
            None
        }
    }
}

/// Collapse runs of `/` and end with one.
fn normalize(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 1);
    for c in path.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_belongs_to_a_scope_only_with_a_key_inside_it() {
        assert_eq!(
            Layout::split_scope("demo/members/node1"),
            Some(("demo", "members/node1"))
        );
        assert_eq!(Layout::split_scope("demo/leader"), Some(("demo", "leader")));
        for outside in ["demo", "demo/", "/leader", ""] {
            assert_eq!(Layout::split_scope(outside), None, "{outside:?}");
        }
    }

    #[test]
    fn paths_collapse_slashes_like_patroni() {
        let l = Layout::new("/service/", false);
        assert_eq!(l.namespace_dir(), "/service/");
        assert_eq!(l.cluster_dir("demo", None), "/service/demo/");
        assert_eq!(l.key("demo", None, CONFIG), "/service/demo/config");
        assert_eq!(l.key("demo", Some(2), FAILOVER), "/service/demo/2/failover");
        let l = Layout::new("ns", false);
        assert_eq!(l.namespace_dir(), "/ns/");
        assert_eq!(l.cluster_dir("b", None), "/ns/b/");
        assert_eq!(
            Layout::new("//a//b//", false).cluster_dir("c", None),
            "/a/b/c/"
        );
    }

    #[test]
    fn citus_reads_the_whole_scope_and_writes_the_coordinator() {
        let l = Layout::new("/service/", true);
        assert_eq!(l.read_dir("demo", None), ("/service/demo/".into(), true));
        assert_eq!(
            l.read_dir("demo", Some(1)),
            ("/service/demo/1/".into(), false)
        );
        assert_eq!(l.key("demo", None, FAILOVER), "/service/demo/0/failover");
        assert_eq!(l.write_dir("demo", Some(3)), "/service/demo/3/");
        let plain = Layout::new("/service/", false);
        assert_eq!(
            plain.read_dir("demo", None),
            ("/service/demo/".into(), false)
        );
        assert_eq!(plain.key("demo", None, FAILOVER), "/service/demo/failover");
    }

    #[test]
    fn a_citus_read_is_split_by_group() {
        let node = |key: &str, value: &str| Node {
            key: key.into(),
            value: value.into(),
            version: crate::model::Version::new(1),
            session: None,
        };
        let nodes = [
            node("0/leader", "c1"),
            node("0/members/c1", "{}"),
            node("1/members/w1", "{}"),
            node("01/members/x", "{}"),
            node("config", "{}"),
        ];
        let c = Layout::assemble(&nodes, true);
        assert_eq!(c.leader_name(), Some("c1"));
        assert_eq!(c.members.len(), 1);
        let workers: Vec<_> = c
            .workers
            .iter()
            .map(|(g, w)| (*g, w.members.len()))
            .collect();
        assert_eq!(workers, [(1, 1)]);
        let plain = Layout::assemble(&nodes[..2], false);
        assert!(plain.leader.is_none() && plain.members.is_empty());
    }

    #[test]
    fn group_names() {
        assert_eq!(Layout::parse_group("0"), Some(0));
        assert_eq!(Layout::parse_group("12"), Some(12));
        assert_eq!(Layout::parse_group("01"), None);
        assert_eq!(Layout::parse_group(""), None);
        assert_eq!(Layout::parse_group("members"), None);
    }
}
