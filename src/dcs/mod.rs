//! The distributed configuration store, at the level patronictl uses it.
//!
//! Mirrors Patroni's `AbstractDCS` as patronictl drives it: read a cluster (and, on Citus, its groups)
//! in one linearizable read, list the scopes of a namespace (and, patctl's own, read every cluster of a
//! namespace in one prefix read), write the `config` and `failover` keys
//! with compare-and-swap on the version read, delete a cluster, and wait for a change (a watch where the
//! back end has one). Commands use [`Dcs`] only: they never see a key or a path.
//!
//! Two layers:
//! - [`KeyValue`]: what a back end offers, on absolute keys, each call bounded by the configured
//!   timeout ([`Etcd3`], [`Etcd2`], [`ZooKeeper`], and [`memory::Memory`] for tests).
//! - [`Dcs`]: the cluster-level store, a [`KeyValue`] plus the [`Layout`] of the keys
//!   (`/<namespace>/<scope>/[<group>/]…`, in [`layout`]), shared by every key-value back end.
//!
//! Adding a back end touches its own file and one registration: implement [`KeyValue`] in
//! `src/dcs/<name>.rs` (its endpoint loop is [`retry::run`]: the back end only says how to reach one
//! endpoint and how its errors sort), add its `mod` line here and one arm to the `match` in [`connect`]
//! and in [`endpoint_statuses`] (and the configuration that selects it). Nothing in `commands/` changes:
//!
//! ```text
//! // src/dcs/zookeeper.rs
//! pub struct ZooKeeper { … }
//! impl ZooKeeper { pub async fn connect(settings: &DcsSettings) -> Result<ZooKeeper> { … } }
//! #[async_trait]
//! impl KeyValue for ZooKeeper { /* read_prefix, put, delete_prefix, wait_for_change, describe */ }
//!
//! // src/dcs/mod.rs
//! mod zookeeper;
//!         DcsKind::ZooKeeper => Box::new(zookeeper::ZooKeeper::connect(settings).await?),
//! ```

mod channel;
mod etcd2;
mod etcd3;
pub mod layout;
pub mod memory;
mod retry;
pub mod status;
mod watch;
pub mod zookeeper;

use std::time::Duration;

use async_trait::async_trait;

use crate::config::{DcsKind, DcsSettings};
use crate::error::{Error, Exit, Result};
use crate::model::{Cluster, Node};

pub use crate::model::{KeyTtl, Version};
pub use etcd2::Etcd2;
pub use etcd3::Etcd3;
pub use layout::Layout;
pub use memory::Memory;
pub(crate) use retry::root_cause;
pub use status::{quorum_count, Auth, EndpointStatus};
pub use watch::{ClusterStream, KeyChange, KvChanges, Update};
pub use zookeeper::ZooKeeper;

/// What a write expects to find, for compare-and-swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Write whatever is there.
    Any,
    /// Write only if the key does not exist.
    Absent,
    /// Write only if the key still has this version.
    At(Version),
}

/// What a DCS back end must offer. Keys are absolute paths (`/service/demo/config`); the layout of
/// those keys is [`Layout`]'s business, not the back end's. Every call is bounded by the configured
/// timeout; an unreachable store is [`Exit::Unreachable`], a write whose outcome is unknown
/// [`Exit::Unknown`]. A lost compare-and-swap is `Ok(false)`, not an error: [`Dcs`] turns it into
/// the conflict error that names the key's role. Endpoints are tried by the one rule of
/// `dcs/retry.rs`: a write that may have been sent is never repeated, so a lost compare-and-swap is always
/// a real conflict.
///
/// An `async_trait` so that [`Dcs`] can hold any back end as a `Box<dyn KeyValue>` (native async
/// trait methods are not dyn-compatible).
#[async_trait]
pub trait KeyValue: Send {
    /// Read every key under `prefix` (which ends in `/`), keys returned relative to it, sorted.
    async fn read_prefix(&mut self, prefix: &str) -> Result<Vec<Node>>;
    /// Write `value` to `key` if `expect` holds; returns `false` when it did not (nothing written).
    async fn put(&mut self, key: &str, value: &str, expect: Expect) -> Result<bool>;
    /// Delete every key under `prefix` (which ends in `/`).
    async fn delete_prefix(&mut self, prefix: &str) -> Result<()>;
    /// Wait until something under `prefix` changes or `timeout` passes (a watch, not a poll, where
    /// the back end can). Returns `true` on a change. A back end without a watch may sleep a short
    /// while and return `true`: callers re-read the cluster after a `true`, and loop until their own
    /// deadline.
    async fn wait_for_change(&mut self, prefix: &str, timeout: Duration) -> Result<bool>;
    /// What this is connected to, for messages (`etcd v3 at http://127.0.0.1:2379`).
    fn describe(&self) -> String;

    /// Read every key under `prefix` as [`KeyValue::read_prefix`], with the store revision the read
    /// reflects (etcd v3 header revision, etcd v2 `X-Etcd-Index`), `None` where the store has none a
    /// watch can resume from. With `at`, the keys as they were at that revision, where the store keeps
    /// history (etcd v3); elsewhere that is a usage error.
    async fn read_prefix_at(
        &mut self,
        prefix: &str,
        at: Option<i64>,
    ) -> Result<(Vec<Node>, Option<i64>)> {
        if at.is_some() {
            return Err(Error::usage(format!(
                "{} keeps no history to resume from: --since-revision needs etcd v3",
                self.describe()
            )));
        }
        Ok((self.read_prefix(prefix).await?, None))
    }

    /// The changes under `prefix` after revision `after` (every one of them, in order, where the store
    /// keeps a log of changes), waiting up to `timeout` for the first. A store that can only say
    /// "something changed" answers [`KvChanges::Reread`]; the default does that with
    /// [`KeyValue::wait_for_change`].
    async fn changes(
        &mut self,
        prefix: &str,
        after: Option<i64>,
        timeout: Duration,
    ) -> Result<KvChanges> {
        let _ = after;
        Ok(if self.wait_for_change(prefix, timeout).await? {
            KvChanges::Reread
        } else {
            KvChanges::Idle
        })
    }

    /// What is left of the leases or TTLs behind these sessions ([`Node::session`] as this back end
    /// read them), in the same order: etcd v3 asks `LeaseTimeToLive` for each lease (all at once),
    /// etcd v2 has the key's remaining `ttl` in the session itself. `None` where nothing can be told
    /// (an expired lease; ZooKeeper's sessions, the default).
    async fn time_to_live(&mut self, sessions: &[i64]) -> Result<Vec<Option<KeyTtl>>> {
        Ok(vec![None; sessions.len()])
    }
    /// Every configured endpoint's status, each asked on its own and all at once within `budget`
    /// ([`endpoint_statuses`]); `probe_key` is read to check the credentials. Default: none
    /// (a store without endpoints).
    async fn endpoint_statuses(
        &mut self,
        _probe_key: &str,
        _budget: Duration,
    ) -> Vec<EndpointStatus> {
        Vec::new()
    }
}

/// Every cluster of one namespace, as [`Dcs::get_namespace`] read it.
#[derive(Debug, Clone, PartialEq)]
pub struct NamespaceRead {
    /// The namespace as a directory (`/service/`).
    pub namespace: String,
    /// `(scope, cluster)`, sorted by scope.
    pub clusters: Vec<(String, Cluster)>,
}

/// A key of a cluster that commands write, named by its role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Config,
    Failover,
}

impl Role {
    fn key(self) -> &'static str {
        match self {
            Role::Config => layout::CONFIG,
            Role::Failover => layout::FAILOVER,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Role::Config => "the configuration",
            Role::Failover => "the failover key",
        }
    }
}

/// The cluster-level store the commands use: a back end plus the layout of its keys.
pub struct Dcs {
    kv: Box<dyn KeyValue>,
    layout: Layout,
}

impl std::fmt::Debug for Dcs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dcs")
            .field("store", &self.kv.describe())
            .field("layout", &self.layout)
            .finish()
    }
}

/// Connect to the back end named in the settings: the one registration of the back ends.
pub async fn connect(settings: &DcsSettings) -> Result<Box<dyn KeyValue>> {
    Ok(match settings.kind {
        DcsKind::Etcd3 => Box::new(Etcd3::connect(settings).await?),
        DcsKind::Etcd2 => Box::new(Etcd2::connect(settings).await?),
        DcsKind::Zookeeper => Box::new(ZooKeeper::connect(settings).await?),
    })
}

/// Ask every configured endpoint of the back end named in the settings for its status (`doctor`), all
/// at once, each within `budget`, each on its own connection (not through the fail-over client of
/// [`connect`]). `probe_key` is a key to read for the authentication check (the namespace, from
/// [`Layout::namespace_dir`]). Returned in the configured order. The other registration of the back
/// ends, next to [`connect`].
pub async fn endpoint_statuses(
    settings: &DcsSettings,
    probe_key: &str,
    budget: Duration,
) -> Vec<EndpointStatus> {
    match settings.kind {
        DcsKind::Etcd3 => etcd3::statuses(settings, probe_key, budget).await,
        DcsKind::Etcd2 => etcd2::statuses(settings, probe_key, budget).await,
        DcsKind::Zookeeper => zookeeper::statuses(settings, budget).await,
    }
}

impl Dcs {
    /// Connect to the DCS named in the settings ([`connect`]), with this key layout.
    pub async fn connect(settings: &DcsSettings, layout: Layout) -> Result<Dcs> {
        Ok(Dcs::new(connect(settings).await?, layout))
    }

    /// A store over any back end.
    pub fn new(kv: Box<dyn KeyValue>, layout: Layout) -> Dcs {
        Dcs { kv, layout }
    }

    /// A store over an in-memory back end (tests); `memory` stays usable to inspect and change it.
    pub fn memory(memory: &Memory, layout: Layout) -> Dcs {
        Dcs::new(Box::new(memory.clone()), layout)
    }

    /// What the store is connected to, for messages (`etcd v3 at http://127.0.0.1:2379`).
    pub fn describe(&self) -> String {
        self.kv.describe()
    }

    /// The layout of the keys.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Read a cluster, as Patroni's `get_cluster()`: one read of its prefix, assembled into a
    /// [`Cluster`]. On Citus without a group, the whole scope is read and split into the coordinator
    /// (group 0) with its workers.
    pub async fn get_cluster(&mut self, scope: &str, group: Option<i64>) -> Result<Cluster> {
        let (dir, mpp) = self.layout.read_dir(scope, group);
        let nodes = self.kv.read_prefix(&dir).await?;
        Ok(Layout::assemble(&nodes, mpp))
    }

    /// Read every cluster of a namespace (the configured one when `namespace` is `None`) in one
    /// prefix read: `(scope, cluster)` sorted by scope, each assembled as [`Dcs::get_cluster`] would
    /// (on Citus, coordinator and workers). patctl's own (`list --all`).
    pub async fn get_namespace(&mut self, namespace: Option<&str>) -> Result<NamespaceRead> {
        let layout = match namespace {
            Some(ns) => Layout::new(ns, self.layout.citus()),
            None => self.layout.clone(),
        };
        let nodes = self.kv.read_prefix(&layout.namespace_dir()).await?;
        let mut scopes: std::collections::BTreeMap<String, Vec<Node>> = Default::default();
        for mut n in nodes {
            let Some((scope, _)) = Layout::split_scope(&n.key) else {
                continue;
            };
            let scope = scope.to_string();
            n.key.drain(..=scope.len());
            scopes.entry(scope).or_default().push(n);
        }
        // Thousands of clusters are parsed on every core (each cluster's keys are its own).
        let scopes: Vec<(String, Vec<Node>)> = scopes.into_iter().collect();
        let citus = layout.citus();
        let clusters = crate::par::map_in_order(&scopes, 64, &|(scope, nodes)| {
            (scope.clone(), Layout::assemble(nodes, citus))
        });
        Ok(NamespaceRead {
            namespace: layout.namespace_dir(),
            clusters,
        })
    }

    /// The scopes (cluster names) with at least one key in the namespace, sorted.
    pub async fn scopes(&mut self) -> Result<Vec<String>> {
        let nodes = self.kv.read_prefix(&self.layout.namespace_dir()).await?;
        let mut scopes: Vec<String> = nodes
            .iter()
            .filter_map(|n| Layout::split_scope(&n.key))
            .map(|(scope, _)| scope.to_string())
            .collect();
        scopes.sort();
        scopes.dedup();
        Ok(scopes)
    }

    /// Write the dynamic configuration (Patroni's `set_config_value`). A lost compare-and-swap is an
    /// [`Exit::Conflict`] error and nothing is written.
    pub async fn set_config(
        &mut self,
        scope: &str,
        group: Option<i64>,
        value: &str,
        expect: Expect,
    ) -> Result<()> {
        self.set(Role::Config, scope, group, value, expect).await
    }

    /// Write the failover key (Patroni's `manual_failover`). A lost compare-and-swap is an
    /// [`Exit::Conflict`] error and nothing is written.
    pub async fn set_failover(
        &mut self,
        scope: &str,
        group: Option<i64>,
        value: &str,
        expect: Expect,
    ) -> Result<()> {
        self.set(Role::Failover, scope, group, value, expect).await
    }

    async fn set(
        &mut self,
        role: Role,
        scope: &str,
        group: Option<i64>,
        value: &str,
        expect: Expect,
    ) -> Result<()> {
        let key = self.layout.key(scope, group, role.key());
        if self.kv.put(&key, value, expect).await? {
            return Ok(());
        }
        let group = match self.layout.write_group(group) {
            Some(g) => format!(" (group {g})"),
            None => String::new(),
        };
        Err(Error::conflict(format!(
            "{} of {scope}{group} changed concurrently; nothing written",
            role.describe()
        )))
    }

    /// Delete every key of a cluster (Patroni's `delete_cluster`).
    pub async fn delete_cluster(&mut self, scope: &str, group: Option<i64>) -> Result<()> {
        let dir = self.layout.write_dir(scope, group);
        self.kv.delete_prefix(&dir).await
    }

    /// What is left of the leases or TTLs behind these sessions ([`crate::model::Member::session`],
    /// [`Cluster::leader_session`]): each distinct one asked once, all at once. Sessions the store
    /// can tell nothing about (ZooKeeper, an expired lease) are absent from the map.
    pub async fn key_ttls(
        &mut self,
        sessions: impl IntoIterator<Item = i64>,
    ) -> Result<std::collections::HashMap<i64, KeyTtl>> {
        let mut distinct: Vec<i64> = sessions.into_iter().collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.is_empty() {
            return Ok(Default::default());
        }
        let ttls = self.kv.time_to_live(&distinct).await?;
        Ok(distinct
            .into_iter()
            .zip(ttls)
            .filter_map(|(s, t)| Some((s, t?)))
            .collect())
    }

    /// Every configured endpoint's status (as `doctor` shows them), each within `budget`; empty for
    /// a store without endpoints.
    pub async fn endpoint_statuses(&mut self, budget: Duration) -> Vec<EndpointStatus> {
        let probe = self.layout.namespace_dir();
        self.kv.endpoint_statuses(&probe, budget).await
    }

    /// Wait until something in the cluster (as [`Dcs::get_cluster`] reads it) changes, or `timeout`
    /// passes; `true` on a change (Patroni's `watch`).
    pub async fn wait_for_change(
        &mut self,
        scope: &str,
        group: Option<i64>,
        timeout: Duration,
    ) -> Result<bool> {
        let (dir, _) = self.layout.read_dir(scope, group);
        self.kv.wait_for_change(&dir, timeout).await
    }
}

/// Whether an error is a lost compare-and-swap.
pub fn is_conflict(e: &Error) -> bool {
    e.exit == Exit::Conflict
}

/// The TLS settings of both etcd back ends (v2 over HTTP, v3 over gRPC): verified against `cacert`
/// only when it is given, with the client certificate (whose key cannot be encrypted: Patroni has no
/// password setting for it).
pub(crate) fn etcd_tls(settings: &DcsSettings) -> Result<crate::tls_stream::TlsSettings> {
    let client = crate::http_client::client_cert(
        settings.cert.as_deref(),
        settings.key.as_deref(),
        None,
        None,
        "etcd client",
    )?;
    crate::tls_stream::TlsSettings {
        ca: None,
        client,
        verify: crate::tls_stream::Verify::Full,
    }
    .with_ca(settings.cacert.as_deref(), "etcd CA file")
}

#[cfg(test)]
mod tests;
