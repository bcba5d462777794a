//! The distributed configuration store, behind one trait.
//!
//! patronictl reads the whole cluster prefix in one linearizable (quorum) read, writes `config` and
//! `failover` with compare-and-swap on the key's version, and deletes the prefix for `remove`. Every
//! back end here offers exactly those operations, each bounded by the configured timeout.

mod channel;
mod etcd2;
mod etcd3;

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
            DcsKind::Etcd2 => Store::Etcd2(Etcd2::connect(settings).await?),
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

/// How one try at one endpoint went wrong, for the fail-over loops of both back ends.
pub(crate) enum Miss {
    /// Nothing reached the server (connection refused, TLS handshake failed): safe to try the next one.
    NotSent(String),
    /// The request may have reached the server (timeout, connection lost): the next endpoint may be tried
    /// only for reads and idempotent writes.
    MaybeSent(String),
    /// The server answered with a definite error (bad credentials, permission): no other endpoint will do
    /// better.
    Fatal(Error),
}

/// The endpoints tried within one bounded call, and why each failed.
pub(crate) struct Attempts {
    deadline: tokio::time::Instant,
    timeout: Duration,
    failures: Vec<(String, String)>,
}

impl Attempts {
    /// Start the clock: every try of this call must end within `timeout` from now.
    pub(crate) fn new(timeout: Duration) -> Attempts {
        Attempts {
            deadline: tokio::time::Instant::now() + timeout,
            timeout,
            failures: Vec::new(),
        }
    }

    /// The time one try may take when `left` endpoints (this one included) remain: an equal share of
    /// what is left, but at least a second (or whatever is left); `None` once the deadline has passed.
    pub(crate) fn budget(&self, left: usize) -> Option<Duration> {
        let remaining = self
            .deadline
            .saturating_duration_since(tokio::time::Instant::now());
        if remaining.is_zero() {
            return None;
        }
        let share = remaining / u32::try_from(left.max(1)).unwrap_or(u32::MAX);
        Some(share.max(Duration::from_secs(1)).min(remaining))
    }

    /// Record that `endpoint` failed, and why.
    pub(crate) fn fail(&mut self, endpoint: &str, why: impl Into<String>) {
        self.failures.push((endpoint.to_string(), why.into()));
    }

    /// Why a try that timed out failed.
    pub(crate) fn no_answer(budget: Duration) -> String {
        format!("no answer within {:.1}s", budget.as_secs_f64())
    }

    /// The "DCS unreachable" error naming every endpoint tried and why it failed; `untried` endpoints
    /// are named as not tried because the time was up.
    pub(crate) fn into_error(mut self, untried: &[String]) -> Error {
        for ep in untried {
            if !self.failures.iter().any(|(e, _)| e == ep) {
                let why = format!(
                    "not tried: the {}s timeout was up",
                    self.timeout.as_secs_f64()
                );
                self.failures.push((ep.clone(), why));
            }
        }
        let first = self.failures.first().map(|(_, w)| w.clone());
        let same = self.failures.iter().all(|(_, w)| Some(w) == first.as_ref());
        let text = if same {
            let eps: Vec<&str> = self.failures.iter().map(|(e, _)| e.as_str()).collect();
            format!("{} ({})", eps.join(", "), first.unwrap_or_default())
        } else {
            let parts: Vec<String> = self
                .failures
                .iter()
                .map(|(e, w)| format!("{e} ({w})"))
                .collect();
            parts.join(", ")
        };
        Error::unreachable(format!("DCS unreachable at {text}"))
    }
}

/// The order in which to use endpoints after `current` answered: `current`, then (unless `use_proxies`)
/// the client URLs the cluster advertises, then the configured ones, each once.
pub(crate) fn fail_over_order(
    current: &str,
    advertised: &[String],
    configured: &[String],
    use_proxies: bool,
) -> Vec<String> {
    let mut out = vec![current.to_string()];
    let advertised = if use_proxies { &[][..] } else { advertised };
    for ep in advertised.iter().chain(configured) {
        let ep = ep.trim().trim_end_matches('/');
        if !ep.is_empty() && !out.iter().any(|e| e == ep) {
            out.push(ep.to_string());
        }
    }
    out
}

/// The innermost cause of an error, which is the one that says what happened ("Connection refused",
/// "invalid peer certificate: UnknownIssuer"), with the `(os error N)` noise removed.
pub(crate) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let text = s.to_string();
        if !text.is_empty() {
            last = text;
        }
        src = s.source();
    }
    let last = match last.find(" (os error") {
        Some(i) => last[..i].to_string(),
        None => last,
    };
    tidy_reason(&last)
}

/// Lower-case the usual socket messages so that they read well inside a sentence.
pub(crate) fn tidy_reason(why: &str) -> String {
    let why = why.lines().next().unwrap_or(why).trim();
    match why {
        "Connection refused" => "connection refused".to_string(),
        "Connection reset by peer" => "connection reset".to_string(),
        _ if why.contains("certificate") || why.contains("Certificate") => {
            format!("TLS certificate error: {why}")
        }
        _ => why.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_error_names_each_endpoint() {
        let mut a = Attempts::new(Duration::from_secs(5));
        a.fail("http://h1:1", "connection refused");
        a.fail("http://h2:2", "connection refused");
        let e = a.into_error(&[]);
        assert_eq!(
            e.message,
            "DCS unreachable at http://h1:1, http://h2:2 (connection refused)"
        );
        assert_eq!(e.exit, crate::error::Exit::Unreachable);
        let mut a = Attempts::new(Duration::from_secs(5));
        a.fail("http://h1:1", "connection refused");
        let e = a.into_error(&["http://h1:1".into(), "http://h2:2".into()]);
        assert_eq!(
            e.message,
            "DCS unreachable at http://h1:1 (connection refused), http://h2:2 (not tried: the 5s timeout was up)"
        );
    }

    #[test]
    fn fail_over_order_dedups_and_honours_proxies() {
        let adv = vec!["http://a:1".to_string(), "http://b:2/".to_string()];
        let cfg = vec!["http://b:2".to_string(), "http://c:3".to_string()];
        assert_eq!(
            fail_over_order("http://b:2", &adv, &cfg, false),
            vec!["http://b:2", "http://a:1", "http://c:3"]
        );
        assert_eq!(
            fail_over_order("http://c:3", &adv, &cfg, true),
            vec!["http://c:3", "http://b:2"]
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn budget_shares_the_time_left() {
        let a = Attempts::new(Duration::from_secs(6));
        let b = a.budget(3).unwrap();
        assert!(b <= Duration::from_secs(2) && b > Duration::from_millis(1900));
        let b = a.budget(100).unwrap();
        assert_eq!(b, Duration::from_secs(1));
        let a = Attempts::new(Duration::from_millis(300));
        assert!(a.budget(3).unwrap() <= Duration::from_millis(300));
    }
}
