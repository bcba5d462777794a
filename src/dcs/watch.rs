//! A cluster-level change stream over a back end's watch: the clusters of one scope (or of every scope
//! in the namespace) as they were at each DCS revision, for `events` and `top`.
//!
//! Patroni has no such stream (patronictl only polls, `list -W`); this is patctl's own. The stream
//! keeps the keys it has seen and applies each change a back end reports (etcd v3 watch events,
//! etcd v2 long-poll answers, the in-memory log) one revision at a time, so that two changes in a row
//! are two snapshots, not one. A back end that can only say "something changed" (ZooKeeper's
//! persistent watch) makes the stream read the keys again. Where the store keeps history (etcd v3),
//! the stream can start from a past revision and miss nothing after it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::{Dcs, Layout, Version};
use crate::error::Result;
use crate::model::{Cluster, Node};

/// One key change as a back end reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyChange {
    /// The store revision of the change.
    pub revision: i64,
    /// The absolute key.
    pub key: String,
    /// The new value; `None` when the key was deleted (or expired).
    pub value: Option<String>,
    /// etcd3 lease id or etcd2 TTL of the new value.
    pub session: Option<i64>,
}

/// What [`super::KeyValue::changes`] saw.
#[derive(Debug, Clone, PartialEq)]
pub enum KvChanges {
    /// Nothing within the timeout.
    Idle,
    /// These changes, in revision order.
    Batch(Vec<KeyChange>),
    /// Something changed, the store cannot say what: read the keys again.
    Reread,
    /// The revision asked for is no longer in the store's history: read the keys again (changes in
    /// between may be lost).
    Compacted,
    /// The connection broke and the store moved on to this endpoint; nothing was lost (the next call
    /// resumes from the revision asked for).
    Reconnected(String),
}

/// What the stream reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// The clusters that changed at `revision`, by scope (`None`: the cluster has no key any more).
    Changed {
        /// The store revision (`None` where the store has none).
        revision: Option<i64>,
        /// The new state of each scope that changed.
        clusters: BTreeMap<String, Option<Cluster>>,
    },
    /// The stream read everything again after its history was compacted: changes in between may be
    /// lost; `clusters` is the whole new state.
    Resynced {
        /// The revision of the new read.
        revision: Option<i64>,
        /// The new state of each scope that changed.
        clusters: BTreeMap<String, Option<Cluster>>,
    },
    /// The store reconnected to another endpoint (named).
    Reconnected(String),
}

/// The state of a change stream: what it watches and the keys as of its last revision.
#[derive(Debug)]
pub struct ClusterStream {
    prefix: String,
    scope: Option<String>,
    mpp: bool,
    nodes: BTreeMap<String, Node>,
    revision: Option<i64>,
}

impl ClusterStream {
    /// The revision of the last change applied (or of the first read).
    pub fn revision(&self) -> Option<i64> {
        self.revision
    }

    /// The scope a key (relative to the prefix) belongs to.
    fn scope_of<'a>(&'a self, rel: &'a str) -> Option<&'a str> {
        match &self.scope {
            Some(s) => Some(s.as_str()),
            None => Layout::split_scope(rel).map(|(scope, _)| scope),
        }
    }

    /// Every cluster as the kept keys make it.
    fn clusters(&self) -> BTreeMap<String, Cluster> {
        let scopes: BTreeSet<&str> = self.nodes.keys().filter_map(|k| self.scope_of(k)).collect();
        scopes
            .into_iter()
            .filter_map(|s| Some((s.to_string(), self.cluster(s)?)))
            .collect()
    }

    /// One cluster as the kept keys make it; `None` when it has no key.
    fn cluster(&self, scope: &str) -> Option<Cluster> {
        let strip = match &self.scope {
            Some(_) => String::new(),
            None => format!("{scope}/"),
        };
        let nodes: Vec<Node> = self
            .nodes
            .range(strip.clone()..)
            .take_while(|(k, _)| k.starts_with(&strip))
            .map(|(k, n)| Node {
                key: k[strip.len()..].to_string(),
                ..n.clone()
            })
            .collect();
        if nodes.is_empty() {
            return None;
        }
        Some(Layout::assemble(&nodes, self.mpp))
    }

    /// Replace the kept keys by a fresh read; the scopes whose cluster differs.
    fn replace(
        &mut self,
        nodes: Vec<Node>,
        revision: Option<i64>,
    ) -> BTreeMap<String, Option<Cluster>> {
        let before = self.clusters();
        self.nodes = nodes.into_iter().map(|n| (n.key.clone(), n)).collect();
        self.revision = revision.or(self.revision);
        let after = self.clusters();
        let mut out = BTreeMap::new();
        for s in before.keys().chain(after.keys()) {
            if before.get(s) != after.get(s) {
                out.insert(s.clone(), after.get(s).cloned());
            }
        }
        out
    }

    /// Apply the changes of one revision; the scopes they touched, as they are now.
    fn apply(&mut self, changes: &[KeyChange]) -> BTreeMap<String, Option<Cluster>> {
        let mut touched = BTreeSet::new();
        for c in changes {
            let Some(rel) = c.key.strip_prefix(&self.prefix) else {
                continue;
            };
            match &c.value {
                Some(v) => {
                    self.nodes.insert(
                        rel.to_string(),
                        Node {
                            key: rel.to_string(),
                            value: v.clone(),
                            version: Version::new(c.revision),
                            session: c.session,
                        },
                    );
                }
                None => {
                    self.nodes.remove(rel);
                }
            }
            if let Some(s) = self.scope_of(rel) {
                touched.insert(s.to_string());
            }
            self.revision = Some(c.revision);
        }
        touched
            .into_iter()
            .map(|s| {
                let c = self.cluster(&s);
                (s, c)
            })
            .collect()
    }
}

impl Dcs {
    /// Start a change stream of one cluster (`scope`), or of every cluster in the namespace (`None`):
    /// the stream and the clusters as they are now, or as they were at revision `from` (etcd v3).
    pub async fn open_stream(
        &mut self,
        scope: Option<&str>,
        from: Option<i64>,
    ) -> Result<(ClusterStream, BTreeMap<String, Cluster>)> {
        let (prefix, mpp) = match scope {
            Some(s) => self.layout.read_dir(s, None),
            None => (self.layout.namespace_dir(), self.layout.citus()),
        };
        let (nodes, revision) = self.kv.read_prefix_at(&prefix, from).await?;
        let mut stream = ClusterStream {
            prefix,
            scope: scope.map(String::from),
            mpp,
            nodes: BTreeMap::new(),
            revision: None,
        };
        stream.replace(nodes, revision);
        let clusters = stream.clusters();
        Ok((stream, clusters))
    }

    /// The next updates of a stream, waiting up to `timeout` for the first; empty when nothing
    /// changed. An unreachable store is an error; calling again resumes where the stream was.
    pub async fn next_updates(
        &mut self,
        stream: &mut ClusterStream,
        timeout: Duration,
    ) -> Result<Vec<Update>> {
        let changes = self
            .kv
            .changes(&stream.prefix, stream.revision, timeout)
            .await?;
        Ok(match changes {
            KvChanges::Idle => Vec::new(),
            KvChanges::Reconnected(to) => vec![Update::Reconnected(to)],
            KvChanges::Batch(all) => {
                let mut out = Vec::new();
                let mut start = 0;
                while start < all.len() {
                    let rev = all[start].revision;
                    let end = all[start..]
                        .iter()
                        .position(|c| c.revision != rev)
                        .map_or(all.len(), |p| start + p);
                    let clusters = stream.apply(&all[start..end]);
                    if !clusters.is_empty() {
                        out.push(Update::Changed {
                            revision: Some(rev),
                            clusters,
                        });
                    }
                    start = end;
                }
                out
            }
            KvChanges::Reread | KvChanges::Compacted => {
                let (nodes, revision) = self.kv.read_prefix_at(&stream.prefix, None).await?;
                let clusters = stream.replace(nodes, revision);
                if changes == KvChanges::Compacted {
                    vec![Update::Resynced { revision, clusters }]
                } else if clusters.is_empty() {
                    Vec::new()
                } else {
                    vec![Update::Changed { revision, clusters }]
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dcs::Memory;

    #[tokio::test(flavor = "current_thread")]
    async fn each_revision_is_one_update_and_history_replays() {
        let m = Memory::with([("/service/demo/leader", "n1"), ("/service/x/leader", "y")]);
        let mut dcs = Dcs::memory(&m, Layout::new("/service/", false));
        let (mut s, now) = dcs.open_stream(Some("demo"), None).await.unwrap();
        assert_eq!(now["demo"].leader_name(), Some("n1"));
        let r0 = s.revision().unwrap();
        m.remove("/service/demo/leader");
        m.set("/service/x/leader", "z");
        m.set("/service/demo/leader", "n2");
        let short = Duration::from_millis(20);
        let ups = dcs.next_updates(&mut s, short).await.unwrap();
        assert_eq!(ups.len(), 2);
        assert!(matches!(&ups[0], Update::Changed { clusters, .. } if clusters["demo"].is_none()));
        assert!(
            matches!(&ups[1], Update::Changed { revision, clusters } if *revision == Some(r0 + 3)
                && clusters["demo"].as_ref().unwrap().leader_name() == Some("n2"))
        );
        assert!(dcs.next_updates(&mut s, short).await.unwrap().is_empty());
        let (_, then) = dcs.open_stream(None, Some(r0)).await.unwrap();
        assert_eq!(then["demo"].leader_name(), Some("n1"));
        assert_eq!(then["x"].leader_name(), Some("y"));
    }
}
