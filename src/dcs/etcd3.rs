//! etcd v3 back end (gRPC, `etcd-client`), mirroring Patroni's `Etcd3` DCS as patronictl uses it:
//! a linearizable range read of `/<namespace>/<scope>/`, compare-and-swap on `mod_revision` through a
//! transaction, a prefix delete, and user/password token auth.

use std::time::Duration;

use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, DeleteOptions, GetOptions, Txn, TxnOp, WatchOptions,
};

use super::{bounded, unreachable, Dcs};
use crate::config::DcsSettings;
use crate::error::{Error, Result};
use crate::model::Node;

/// A connected etcd v3 client.
pub struct Etcd3 {
    client: Client,
    endpoints: Vec<String>,
    timeout: Duration,
}

fn map_err(endpoints: &[String], e: etcd_client::Error) -> Error {
    match e {
        etcd_client::Error::GRpcStatus(s) => match s.code() {
            tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::Cancelled => {
                unreachable(endpoints, &first_line(s.message()))
            }
            tonic::Code::Unauthenticated | tonic::Code::PermissionDenied => Error::failure(
                format!("etcd refused the request: {}", first_line(s.message())),
            ),
            _ => Error::failure(format!("etcd error: {}", first_line(s.message()))),
        },
        etcd_client::Error::InvalidUri(u) => {
            Error::usage(format!("invalid etcd endpoint URL: {u}"))
        }
        other => unreachable(endpoints, &first_line(&other.to_string())),
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_string()
}

impl Etcd3 {
    /// Connect (and authenticate, when a user is configured) within the timeout.
    pub async fn connect(settings: &DcsSettings) -> Result<Etcd3> {
        let endpoints = settings.endpoints.clone();
        let mut options = ConnectOptions::new()
            .with_connect_timeout(settings.timeout)
            .with_timeout(settings.timeout);
        if let (Some(u), Some(p)) = (&settings.username, &settings.password) {
            options = options.with_user(u.clone(), p.clone());
        }
        if settings.cacert.is_some()
            || settings.cert.is_some()
            || endpoints.iter().any(|e| e.starts_with("https"))
        {
            return Err(Error::usage(
                "TLS to etcd v3 is not supported by this build of patctl".to_string(),
            ));
        }
        let eps = endpoints.clone();
        let client = bounded(settings.timeout, &endpoints, "connect", async move {
            Client::connect(&eps, Some(options))
                .await
                .map_err(|e| map_err(&eps, e))
        })
        .await?;
        Ok(Etcd3 {
            client,
            endpoints,
            timeout: settings.timeout,
        })
    }
}

impl Dcs for Etcd3 {
    async fn read_prefix(&mut self, prefix: &str) -> Result<Vec<Node>> {
        let eps = &self.endpoints;
        let kv = &mut self.client;
        let resp = bounded(self.timeout, eps, "range read", async {
            kv.get(prefix, Some(GetOptions::new().with_prefix()))
                .await
                .map_err(|e| map_err(eps, e))
        })
        .await?;
        Ok(resp
            .kvs()
            .iter()
            .filter_map(|kv| {
                let key = String::from_utf8_lossy(kv.key());
                let rel = key.strip_prefix(prefix)?.to_string();
                Some(Node {
                    key: rel,
                    value: String::from_utf8_lossy(kv.value()).into_owned(),
                    version: kv.mod_revision(),
                    session: (kv.lease() != 0).then_some(kv.lease()),
                })
            })
            .collect())
    }

    async fn put(&mut self, key: &str, value: &str, version: Option<i64>) -> Result<bool> {
        let eps = &self.endpoints;
        let client = &mut self.client;
        bounded(self.timeout, eps, "write", async {
            match version {
                None => client
                    .put(key, value, None)
                    .await
                    .map(|_| true)
                    .map_err(|e| map_err(eps, e)),
                Some(v) => {
                    let cmp = if v == 0 {
                        Compare::create_revision(key, CompareOp::Equal, 0)
                    } else {
                        Compare::mod_revision(key, CompareOp::Equal, v)
                    };
                    let txn = Txn::new()
                        .when([cmp])
                        .and_then([TxnOp::put(key, value, None)]);
                    client
                        .txn(txn)
                        .await
                        .map(|r| r.succeeded())
                        .map_err(|e| map_err(eps, e))
                }
            }
        })
        .await
    }

    async fn delete_prefix(&mut self, prefix: &str) -> Result<()> {
        let eps = &self.endpoints;
        let client = &mut self.client;
        bounded(self.timeout, eps, "delete", async {
            client
                .delete(prefix, Some(DeleteOptions::new().with_prefix()))
                .await
                .map(|_| ())
                .map_err(|e| map_err(eps, e))
        })
        .await
    }

    async fn wait_for_change(&mut self, prefix: &str, timeout: Duration) -> Result<bool> {
        let eps = self.endpoints.clone();
        let mut stream = bounded(self.timeout, &eps, "watch", async {
            self.client
                .watch(prefix, Some(WatchOptions::new().with_prefix()))
                .await
                .map_err(|e| map_err(&eps, e))
        })
        .await?;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, stream.message()).await {
                Err(_) => return Ok(false),
                Ok(Err(e)) => return Err(map_err(&eps, e)),
                Ok(Ok(None)) => return Ok(false),
                Ok(Ok(Some(resp))) => {
                    if !resp.events().is_empty() {
                        return Ok(true);
                    }
                }
            }
        }
    }
}
