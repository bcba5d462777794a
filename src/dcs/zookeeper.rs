//! ZooKeeper back end, mirroring Patroni's `ZooKeeper` DCS (kazoo) as patronictl uses it.
//!
//! - Read: the tree under the cluster path, as `_postgresql_cluster_loader` does with `get_children` and
//!   a `get` per znode (here after a `sync`, and with the `get`s pipelined on one session). Every znode
//!   without children is a key (`config`, `leader`, `members/<name>`, …); its version is the znode's
//!   `stat.version`, its session the `ephemeralOwner` of the ephemeral `leader` and `members/*`.
//! - Write: `_set_or_create` — a `set` with the expected `stat.version` (`BadVersion` or `NoNode` = the
//!   compare lost), a create-only write that loses on `NodeExists`, or an unconditional `set` that creates
//!   the znode (and its parents) when it is missing. patronictl passes `version or -1`, so a `config` at
//!   version 0 is overwritten unconditionally there; patctl compares at version 0 too.
//! - Delete: `delete_cluster`, a recursive delete of the cluster's znode.
//! - Wait: a persistent recursive watch on the cluster's znode (ZooKeeper 3.6+), not a poll.
//!
//! Unlike kazoo (which retries forever), every call is bounded by the one rule of `dcs/retry.rs`: servers
//! are tried one at a time, each with a share of the timeout, so a dead or hung server is skipped, a
//! write that may have been sent is never repeated (exit 5), and when none answers the error names each
//! server and why (`DCS unreachable at 127.0.0.1:2181 (connection refused)`).

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use zookeeper_client::{self as zk, Acls, AddWatchMode, Client, CreateMode, PersistentWatcher};

use super::retry::{self, root_cause, Attempts, Call, Miss, Why};
use super::{Expect, KeyValue, Version};
use crate::config::DcsSettings;
use crate::error::{Error, Result};
use crate::model::Node;

/// A ZooKeeper session on one of the configured servers.
pub struct ZooKeeper {
    /// The configured servers (`host:port`) in fail-over order, the one the session is on first.
    order: Vec<String>,
    /// The session, on `order[0]`.
    client: Client,
    timeout: Duration,
    /// The persistent recursive watch of the last `wait_for_change`, kept so that no change between two
    /// waits is missed: (path, watcher).
    watch: Option<(String, PersistentWatcher)>,
    /// The settings connected with, for the per-endpoint statuses.
    settings: DcsSettings,
}

/// Errors that say the session or its connection is gone: the request may be repeated elsewhere.
fn is_transport(e: &zk::Error) -> bool {
    matches!(
        e,
        zk::Error::ConnectionLoss
            | zk::Error::SessionExpired
            | zk::Error::Timeout
            | zk::Error::ClientClosed
            | zk::Error::NoHosts
            | zk::Error::SessionMoved
    )
}

/// A definite answer from ZooKeeper that no other server would change.
fn zk_error(path: &str, e: &zk::Error) -> Error {
    match e {
        zk::Error::NoAuth => Error::failure(format!(
            "ZooKeeper refused access to {path}: not authorized (ACL)"
        )),
        e => Error::failure(format!("ZooKeeper error on {path}: {e}")),
    }
    .with_source(e.clone())
}

/// Sort an error of a request on `path`: a lost connection or session may have let the request
/// through; anything else is ZooKeeper's answer.
fn classify(path: &str, e: &zk::Error) -> Miss {
    if is_transport(e) {
        Miss::MaybeSent(Why::of(e))
    } else {
        Miss::Fatal(zk_error(path, e))
    }
}

/// The session timeout asked for: the server clamps it to 2–20 ticks (4–40 s with a 2 s tick).
fn session_timeout(timeout: Duration) -> Duration {
    timeout.clamp(Duration::from_secs(4), Duration::from_secs(40))
}

/// Open a session on `host` within `budget`. A plain TCP connect first, so that a refused or unroutable
/// server is reported as such (the client library only says that no host was available).
async fn open(
    host: &str,
    budget: Duration,
    timeout: Duration,
) -> std::result::Result<Client, Miss> {
    let attempt = async {
        tokio::net::TcpStream::connect(host)
            .await
            .map_err(|e| Why::of(&e))?;
        Client::connector()
            .with_fail_eagerly()
            .with_session_timeout(session_timeout(timeout))
            .connect(host)
            .await
            .map_err(|e| Why {
                short: format!("no session: {e}"),
                chain: crate::error::causes(&e),
            })
    };
    match tokio::time::timeout(budget, attempt).await {
        Ok(r) => r.map_err(Miss::NotSent),
        Err(_) => Err(Miss::NotSent(Attempts::no_answer(budget).into())),
    }
}

/// `a/b`, or the non-empty one of the two.
fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (_, true) => a.to_string(),
        (true, false) => b.to_string(),
        (false, false) => format!("{a}/{b}"),
    }
}

/// Every znode without children under `root`, keys relative to it, sorted. The `get`s of one level are
/// all sent before the first answer is awaited (the client orders requests when they are created).
async fn read_tree(client: Client, root: String) -> std::result::Result<Vec<Node>, zk::Error> {
    match client.sync(&root).await {
        Ok(()) | Err(zk::Error::NoNode) => {}
        Err(e) => return Err(e),
    }
    let mut out = Vec::new();
    let mut dirs = vec![String::new()];
    while let Some(rel) = dirs.pop() {
        let children = match client.list_children(&join(&root, &rel)).await {
            Ok(c) => c,
            Err(zk::Error::NoNode) => continue,
            Err(e) => return Err(e),
        };
        let pending: Vec<_> = children
            .into_iter()
            .map(|c| {
                let key = join(&rel, &c);
                let get = client.get_data(&join(&root, &key));
                (key, get)
            })
            .collect();
        for (key, get) in pending {
            match get.await {
                Ok((_, stat)) if stat.num_children > 0 => dirs.push(key),
                Ok((data, stat)) => out.push(Node {
                    key,
                    value: String::from_utf8_lossy(&data).into_owned(),
                    version: Version::new(i64::from(stat.version)),
                    session: (stat.ephemeral_owner != 0).then_some(stat.ephemeral_owner),
                }),
                // Gone between the listing and the get (an ephemeral member whose session ended).
                Err(zk::Error::NoNode) => {}
                Err(e) => return Err(e),
            }
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(out)
}

/// Create `path` (persistent, open ACL as kazoo's default) and, when its parent is missing, the parents.
async fn create(client: &Client, path: &str, value: &[u8]) -> std::result::Result<(), zk::Error> {
    let options = CreateMode::Persistent.with_acls(Acls::anyone_all());
    match client.create(path, value, &options).await {
        Err(zk::Error::NoNode) => {
            if let Some((parent, _)) = path.rsplit_once('/').filter(|(p, _)| !p.is_empty()) {
                client.mkdir(parent, &options).await?;
            }
            client.create(path, value, &options).await.map(|_| ())
        }
        r => r.map(|_| ()),
    }
}

/// `_set_or_create`: true when written, false when the expectation did not hold.
async fn write(
    client: Client,
    key: String,
    value: String,
    expect: Expect,
) -> std::result::Result<bool, zk::Error> {
    let data = value.as_bytes();
    match expect {
        Expect::At(v) => {
            // Not a znode version (only this back end makes those): it cannot match.
            let Ok(v) = i32::try_from(v.raw()) else {
                return Ok(false);
            };
            match client.set_data(&key, data, Some(v)).await {
                Ok(_) => Ok(true),
                Err(zk::Error::BadVersion | zk::Error::NoNode) => Ok(false),
                Err(e) => Err(e),
            }
        }
        Expect::Absent => match create(&client, &key, data).await {
            Ok(()) => Ok(true),
            Err(zk::Error::NodeExists) => Ok(false),
            Err(e) => Err(e),
        },
        Expect::Any => match client.set_data(&key, data, None).await {
            Ok(_) => Ok(true),
            Err(zk::Error::NoNode) => match create(&client, &key, data).await {
                Ok(()) => Ok(true),
                // Created by someone else in between: set it after all.
                Err(zk::Error::NodeExists) => client.set_data(&key, data, None).await.map(|_| true),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        },
    }
}

/// `delete(path, recursive=True)`: children first; a znode that is already gone is fine. A member that
/// re-creates its key meanwhile (Patroni still running) makes a later pass needed.
async fn delete_tree(client: Client, root: String) -> std::result::Result<(), zk::Error> {
    for _ in 0..3 {
        let mut order = vec![root.clone()];
        let mut i = 0;
        while i < order.len() {
            match client.list_children(&order[i]).await {
                Ok(children) => {
                    let base = order[i].clone();
                    order.extend(children.iter().map(|c| format!("{base}/{c}")));
                }
                Err(zk::Error::NoNode) => {}
                Err(e) => return Err(e),
            }
            i += 1;
        }
        let pending: Vec<_> = order.iter().rev().map(|p| client.delete(p, None)).collect();
        let mut again = false;
        for d in pending {
            match d.await {
                Ok(()) | Err(zk::Error::NoNode) => {}
                Err(zk::Error::NotEmpty) => again = true,
                Err(e) => return Err(e),
            }
        }
        if !again {
            return Ok(());
        }
    }
    Err(zk::Error::NotEmpty)
}

impl ZooKeeper {
    /// Open a session on the first configured server that answers within its share of the timeout.
    pub async fn connect(settings: &DcsSettings) -> Result<ZooKeeper> {
        let mut order = settings.endpoints.clone();
        let timeout = settings.timeout;
        let (client, at) =
            retry::first_answering(&order, timeout, |host, budget| open(host, budget, timeout))
                .await?;
        retry::prefer(&mut order, at);
        Ok(ZooKeeper {
            order,
            client,
            timeout,
            watch: None,
            settings: settings.clone(),
        })
    }

    /// Run `op` by the one retry rule ([`retry::run`]): on the session, then (a read, after the
    /// session or its server failed) on a new session on the next server that answers, which the
    /// client keeps. A write that may have reached ZooKeeper is not repeated.
    async fn run<T, F, Fut>(&mut self, path: &str, call: Call, op: F) -> Result<T>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = std::result::Result<T, zk::Error>>,
    {
        let order = self.order.clone();
        let connected = matches!(
            self.client.state(),
            zk::SessionState::SyncConnected | zk::SessionState::ConnectedReadOnly
        );
        let (current, timeout, op) = (self.client.clone(), self.timeout, &op);
        let (value, client, at) = retry::run(
            &order,
            timeout,
            call,
            |host, budget| {
                let here = (host == order[0]).then(|| current.clone());
                async move {
                    match here {
                        Some(c) if connected => Ok(c),
                        Some(_) => Err(Miss::NotSent(Why::from("session lost"))),
                        None => open(host, budget, timeout).await,
                    }
                }
            },
            |_, c, _| async move { op(c).await.map_err(|e| classify(path, &e)) },
        )
        .await?;
        if at > 0 {
            self.client = client;
            self.watch = None;
            retry::prefer(&mut self.order, at);
        }
        Ok(value)
    }
}

#[async_trait]
impl KeyValue for ZooKeeper {
    /// Every key under `prefix` (which ends in `/`), relative to it.
    async fn read_prefix(&mut self, prefix: &str) -> Result<Vec<Node>> {
        let root = prefix.trim_end_matches('/').to_string();
        self.run(prefix, Call::Read, |c| read_tree(c, root.clone()))
            .await
    }

    /// Write `value` to `key` if `expect` holds; false when it did not.
    async fn put(&mut self, key: &str, value: &str, expect: Expect) -> Result<bool> {
        let (k, v) = (key.to_string(), value.to_string());
        self.run(key, Call::Write("write"), |c| {
            write(c, k.clone(), v.clone(), expect)
        })
        .await
    }

    /// Delete the znode of `prefix` and everything under it.
    async fn delete_prefix(&mut self, prefix: &str) -> Result<()> {
        let root = prefix.trim_end_matches('/').to_string();
        self.run(prefix, Call::Write("delete"), |c| {
            delete_tree(c, root.clone())
        })
        .await
    }

    /// Wait (at most `timeout`) for a change anywhere under `prefix`, through a persistent recursive
    /// watch. The first call only sets the watch up and says "changed": the caller's last read came
    /// before the watch, so it has to read again; from then on the watch queues every change, so none
    /// made between two waits is missed. ZooKeeper before 3.6 has no such watch: then this waits up to a
    /// second and says "changed" (a poll).
    async fn wait_for_change(&mut self, prefix: &str, timeout: Duration) -> Result<bool> {
        let root = prefix.trim_end_matches('/').to_string();
        if let Some((_, watcher)) = self.watch.as_mut().filter(|(p, _)| *p == root) {
            return Ok(tokio::time::timeout(timeout, watcher.changed())
                .await
                .is_ok());
        }
        let watched = self
            .run(prefix, Call::Read, |c| {
                let root = root.clone();
                async move {
                    match c.watch(&root, AddWatchMode::PersistentRecursive).await {
                        Ok(w) => Ok(Some(w)),
                        Err(zk::Error::Unimplemented) => Ok(None),
                        Err(e) => Err(e),
                    }
                }
            })
            .await?;
        match watched {
            Some(watcher) => self.watch = Some((root, watcher)),
            None => tokio::time::sleep(timeout.min(Duration::from_secs(1))).await,
        }
        Ok(true)
    }

    fn describe(&self) -> String {
        format!("ZooKeeper at {}", self.order[0])
    }

    // `time_to_live`: the default (nothing), an ephemeral znode lives as long as its session.

    async fn endpoint_statuses(
        &mut self,
        _probe_key: &str,
        budget: Duration,
    ) -> Vec<super::EndpointStatus> {
        statuses(&self.settings, budget).await
    }
}

/// Every configured server's status (`doctor`), from the `srvr` four-letter word: the version and the
/// mode (`leader`, `follower`, `standalone`; a server outside a quorum answers that it is not serving
/// requests). ZooKeeper tells no leader name nor member list there, and patctl has no ZooKeeper
/// authentication to check.
pub(super) async fn statuses(
    settings: &DcsSettings,
    budget: Duration,
) -> Vec<super::status::EndpointStatus> {
    super::status::each(&settings.endpoints, budget, |host| async move {
        server_status(host).await
    })
    .await
}

async fn server_status(host: &str) -> super::status::EndpointStatus {
    use super::status::{Auth, EndpointStatus};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let answer = async {
        let mut tcp = tokio::net::TcpStream::connect(host)
            .await
            .map_err(|e| root_cause(&e))?;
        tcp.write_all(b"srvr").await.map_err(|e| root_cause(&e))?;
        let mut text = String::new();
        tcp.read_to_string(&mut text)
            .await
            .map_err(|e| root_cause(&e))?;
        Ok::<_, String>(text)
    };
    let text = match answer.await {
        Ok(t) => t,
        Err(why) => return EndpointStatus::unreachable(host, why, Duration::ZERO),
    };
    let mut s = EndpointStatus::new(host);
    s.auth = Auth::Unchecked("patctl has no ZooKeeper authentication".into());
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
    };
    if let Some(v) = field("Zookeeper version:") {
        let v = v.split(['-', ',']).next().unwrap_or(&v).to_string();
        s.version = Some(format!("ZooKeeper {v}"));
    }
    match field("Mode:") {
        Some(mode) => {
            s.quorum = Some(true);
            s.is_leader = Some(mode == "leader" || mode == "standalone");
            if s.is_leader == Some(true) {
                s.leader = Some(host.to_string());
            }
            s.quorum_note = format!("mode {mode}");
        }
        None if text.contains("not currently serving requests") => {
            s.quorum = Some(false);
            s.quorum_note = "not serving requests".into();
        }
        None if text.trim().is_empty() => {
            s.quorum_note = "srvr is not allowed (4lw.commands.whitelist)".into();
        }
        None => s.quorum_note = "unexpected srvr answer".into(),
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_makes_znode_paths_and_relative_keys() {
        assert_eq!(join("/service/demo", ""), "/service/demo");
        assert_eq!(
            join("/service/demo", "members/n1"),
            "/service/demo/members/n1"
        );
        assert_eq!(join("", "config"), "config");
        assert_eq!(join("members", "n1"), "members/n1");
    }

    #[test]
    fn session_timeout_stays_in_the_servers_range() {
        assert_eq!(
            session_timeout(Duration::from_secs(1)),
            Duration::from_secs(4)
        );
        assert_eq!(
            session_timeout(Duration::from_secs(5)),
            Duration::from_secs(5)
        );
        assert_eq!(
            session_timeout(Duration::from_secs(600)),
            Duration::from_secs(40)
        );
    }

    #[test]
    fn transport_errors_are_told_from_answers() {
        assert!(is_transport(&zk::Error::ConnectionLoss));
        assert!(is_transport(&zk::Error::SessionExpired));
        assert!(!is_transport(&zk::Error::BadVersion));
        assert!(!is_transport(&zk::Error::NoAuth));
        assert_eq!(
            zk_error("/service/demo/config", &zk::Error::NoAuth).message,
            "ZooKeeper refused access to /service/demo/config: not authorized (ACL)"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn dead_servers_are_named_within_the_timeout() {
        let closed = |_: ()| {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        };
        let (a, b) = (closed(()), closed(()));
        let settings = DcsSettings {
            kind: crate::config::DcsKind::Zookeeper,
            endpoints: vec![format!("127.0.0.1:{a}"), format!("127.0.0.1:{b}")],
            use_proxies: false,
            username: None,
            password: None,
            cacert: None,
            cert: None,
            key: None,
            timeout: Duration::from_secs(2),
        };
        let t0 = std::time::Instant::now();
        let e = ZooKeeper::connect(&settings).await.err().unwrap();
        assert!(t0.elapsed() < Duration::from_secs(2));
        assert_eq!(e.exit, crate::error::Exit::Unreachable);
        assert_eq!(
            e.message,
            format!("DCS unreachable at 127.0.0.1:{a}, 127.0.0.1:{b} (connection refused)")
        );
    }
}
