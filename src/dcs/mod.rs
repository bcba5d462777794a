//! The distributed configuration store, behind one trait.
//!
//! patronictl reads the whole cluster prefix in one linearizable (quorum) read, writes `config` and
//! `failover` with compare-and-swap on the key's version, and deletes the prefix for `remove`. Every
//! back end here offers exactly those operations, each bounded by the configured timeout.

mod etcd2;
mod etcd3;

use std::future::Future;
use std::time::Duration;

use crate::config::{DcsKind, DcsSettings};
use crate::error::{Error, Result};
use crate::model::{Cluster, Node};

pub use etcd2::Etcd2;
pub use etcd3::Etcd3;

/// What a DCS back end must offer. Keys are absolute paths (`/service/demo/config`).
#[allow(async_fn_in_trait)]
pub trait Dcs {
    /// Read every key under `prefix` (which ends in `/`), keys returned relative to it.
    async fn read_prefix(&mut self, prefix: &str) -> Result<Vec<Node>>;
    /// Write `value` to `key`. With `Some(version)` the write happens only if the key's version is still
    /// `version` (0 = the key must not exist); returns `false` when that check failed.
    async fn put(&mut self, key: &str, value: &str, version: Option<i64>) -> Result<bool>;
    /// Delete every key under `prefix`.
    async fn delete_prefix(&mut self, prefix: &str) -> Result<()>;
    /// Wait until something under `prefix` changes or `timeout` passes (a watch, not a poll, where
    /// the back end can). Returns `true` on a change.
    async fn wait_for_change(&mut self, prefix: &str, timeout: Duration) -> Result<bool>;
}

/// The configured back end.
pub enum Store {
    /// etcd v3 over gRPC.
    Etcd3(Box<Etcd3>),
    /// etcd v2 over HTTP.
    Etcd2(Etcd2),
}

impl Store {
    /// Connect to the DCS named in the settings.
    pub async fn connect(settings: &DcsSettings) -> Result<Store> {
        Ok(match settings.kind {
            DcsKind::Etcd3 => Store::Etcd3(Box::new(Etcd3::connect(settings).await?)),
            DcsKind::Etcd2 => Store::Etcd2(Etcd2::connect(settings)?),
        })
    }

    /// Read a cluster: the whole prefix, assembled into a [`Cluster`]. With `mpp`, the prefix holds
    /// Citus groups (`<prefix><group>/…`).
    pub async fn get_cluster(&mut self, prefix: &str, mpp: bool) -> Result<Cluster> {
        let nodes = self.read_prefix(prefix).await?;
        Ok(if mpp {
            Cluster::from_mpp_nodes(&nodes)
        } else {
            Cluster::from_nodes(&nodes)
        })
    }
}

impl Dcs for Store {
    async fn read_prefix(&mut self, prefix: &str) -> Result<Vec<Node>> {
        match self {
            Store::Etcd3(s) => s.read_prefix(prefix).await,
            Store::Etcd2(s) => s.read_prefix(prefix).await,
        }
    }
    async fn put(&mut self, key: &str, value: &str, version: Option<i64>) -> Result<bool> {
        match self {
            Store::Etcd3(s) => s.put(key, value, version).await,
            Store::Etcd2(s) => s.put(key, value, version).await,
        }
    }
    async fn delete_prefix(&mut self, prefix: &str) -> Result<()> {
        match self {
            Store::Etcd3(s) => s.delete_prefix(prefix).await,
            Store::Etcd2(s) => s.delete_prefix(prefix).await,
        }
    }
    async fn wait_for_change(&mut self, prefix: &str, timeout: Duration) -> Result<bool> {
        match self {
            Store::Etcd3(s) => s.wait_for_change(prefix, timeout).await,
            Store::Etcd2(s) => s.wait_for_change(prefix, timeout).await,
        }
    }
}

/// Run a DCS call under the timeout; a timeout becomes an "unreachable" error naming the endpoints.
pub(crate) async fn bounded<T>(
    settings_timeout: Duration,
    endpoints: &[String],
    what: &str,
    fut: impl Future<Output = Result<T>>,
) -> Result<T> {
    match tokio::time::timeout(settings_timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(unreachable(
            endpoints,
            &format!(
                "{what}: no answer within {}s",
                settings_timeout.as_secs_f64()
            ),
        )),
    }
}

/// The one-line "DCS unreachable" error, naming every endpoint.
pub(crate) fn unreachable(endpoints: &[String], why: &str) -> Error {
    Error::unreachable(format!(
        "DCS unreachable at {} ({why})",
        endpoints.join(", ")
    ))
}
