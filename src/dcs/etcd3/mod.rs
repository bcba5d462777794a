//! etcd v3 back end (gRPC, `etcd-client`), mirroring Patroni's `Etcd3` DCS as patronictl uses it:
//! a linearizable range read of `/<namespace>/<scope>/`, compare-and-swap on `mod_revision` through a
//! transaction, a prefix delete, user/password token auth, and TLS with a CA and a client certificate.
//!
//! Like patronictl, it asks the cluster for its members' client URLs (`MemberList`) and fails over to
//! them; unlike patronictl (which retries forever), every call is bounded by the one rule of
//! `dcs/retry.rs`: endpoints are tried one at a time, each with a share of the timeout, so a dead or
//! hung member is skipped, a write that may have been sent is never repeated (exit 5), and when none
//! answers the error names each endpoint and why it failed.

use std::time::Duration;

use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, DeleteOptions, GetOptions, GetResponse, Txn, TxnOp,
    WatchOptions,
};

use async_trait::async_trait;

use super::retry::{self, fail_over_order, tidy_reason, Attempts, Call, Miss, Why};
use super::{Expect, KeyChange, KeyTtl, KeyValue, KvChanges, Version};
use crate::config::DcsSettings;
use crate::error::{Error, Result};
use crate::model::Node;

/// The largest range read answer accepted (etcd's own default request limit is far lower; this only
/// lifts the client's 4 MiB default for reads of a whole namespace).
const MAX_READ_BYTES: usize = 512 * 1024 * 1024;

/// A connected etcd v3 client, talking to one member at a time.
pub struct Etcd3 {
    /// The client of the endpoint in use, `order[0]`.
    client: Client,
    /// Every endpoint in fail-over order, the one in use first.
    order: Vec<String>,
    connector: Connector,
    timeout: Duration,
    /// The prefix last read and the store revision of that read: a watch on the same prefix starts
    /// right after it, so a change landing between the read and the watch is not missed.
    read_at: Option<(String, i64)>,
    /// The watch of the last [`KeyValue::changes`] call: its prefix, the revision it delivers next,
    /// and the stream, kept so that a stream of changes is one watch, not one per call.
    watch: Option<(String, i64, etcd_client::WatchStream)>,
    /// The settings connected with, for the per-endpoint statuses.
    settings: DcsSettings,
}

/// What is needed to open a client to any one endpoint.
struct Connector {
    user: Option<(String, String)>,
    tls: super::channel::Tls,
    has_identity: bool,
}

impl Connector {
    fn new(settings: &DcsSettings) -> Result<Connector> {
        let user = match (&settings.username, &settings.password) {
            (Some(u), Some(p)) => Some((u.clone(), p.clone())),
            _ => None,
        };
        let tls = super::channel::Tls::new(settings)?;
        Ok(Connector {
            user,
            tls,
            has_identity: settings.cert.is_some(),
        })
    }

    /// Open a client to `endpoint` and check that it answers (asking for the member list on the way).
    /// Returns the client and the members' advertised client URLs.
    async fn open(
        &self,
        endpoint: &str,
        budget: Duration,
    ) -> std::result::Result<(Client, Vec<String>), Miss> {
        let mut options = ConnectOptions::new().with_connect_timeout(budget);
        if let Some((u, p)) = &self.user {
            options = options.with_user(u.clone(), p.clone());
        }
        let attempt = async {
            // Patroni uses TLS only on https endpoints.
            let channel = super::channel::open(endpoint, &self.tls, budget)
                .await
                .map_err(Miss::NotSent)?;
            // With a user this authenticates, so it already proves the endpoint answers.
            let mut client =
                Client::from_channel(etcd_client::Channel::Tonic(channel), Some(options))
                    .await
                    .map_err(|e| classify(&e, self.user.as_ref()))?;
            let advertised = match client.member_list().await {
                Ok(resp) => resp
                    .members()
                    .iter()
                    .flat_map(|m| m.client_urls().iter().cloned())
                    .collect(),
                // The member answered, just not with its peers: use it without them.
                Err(e) => match classify(&e, self.user.as_ref()) {
                    Miss::Fatal(_) => Vec::new(),
                    other => return Err(other),
                },
            };
            Ok((client, advertised))
        };
        let result = match tokio::time::timeout(budget, attempt).await {
            Ok(r) => r,
            Err(_) => Err(Miss::NotSent(Attempts::no_answer(budget).into())),
        };
        // Opening only authenticates and lists members, so whatever failed, the caller's request was
        // not sent yet.
        result.map_err(|miss| match miss {
            Miss::NotSent(why) | Miss::MaybeSent(why)
                if self.client_cert_missing(endpoint, &why.short) =>
            {
                Miss::NotSent(Why {
                    short: format!(
                        "{}; etcd may require a client certificate: set cert and key",
                        why.short
                    ),
                    ..why
                })
            }
            Miss::NotSent(why) | Miss::MaybeSent(why) => Miss::NotSent(why),
            fatal => fatal,
        })
    }

    /// Whether a failed TLS connection looks like the server wanting a client certificate we lack (TLS
    /// 1.3 reports that only after the handshake, as an alert or a closed connection).
    fn client_cert_missing(&self, endpoint: &str, why: &str) -> bool {
        !self.has_identity
            && endpoint.starts_with("https://")
            && !why.contains("certificate verify failed")
            && [
                "closed",
                "broken pipe",
                "bad certificate",
                "certificate required",
                "unexpected eof",
            ]
            .iter()
            .any(|w| why.contains(w))
    }
}

/// Sort an etcd-client error into "try the next endpoint" or "give up".
fn classify(e: &etcd_client::Error, user: Option<&(String, String)>) -> Miss {
    use tonic::Code;
    match e {
        etcd_client::Error::GRpcStatus(s) => {
            let why = status_reason(s);
            // A status with a source error was made by tonic from a transport failure, not sent by etcd.
            let transport = std::error::Error::source(s).is_some();
            let fatal = |text: String| Miss::Fatal(Error::failure(text).with_source(s.clone()));
            match s.code() {
                _ if transport && is_connect_failure(s) => Miss::NotSent(why),
                _ if transport => Miss::MaybeSent(why),
                Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => {
                    Miss::MaybeSent(why)
                }
                Code::InvalidArgument if why.short.contains("authentication failed") => {
                    fatal(auth_failed(user, &why.short))
                }
                Code::Unauthenticated | Code::PermissionDenied => {
                    fatal(format!("etcd refused the request: {}", why.short))
                }
                _ => fatal(format!("etcd error: {}", why.short)),
            }
        }
        etcd_client::Error::TransportError(t) => Miss::NotSent(Why::of(t)),
        etcd_client::Error::IoError(io) => Miss::MaybeSent(Why::of(io)),
        etcd_client::Error::InvalidUri(u) => Miss::Fatal(Error::usage(format!(
            "invalid etcd endpoint URL: {}",
            tidy_reason(&u.to_string())
        ))),
        etcd_client::Error::InvalidArgs(a) => {
            Miss::Fatal(Error::usage(format!("cannot connect to etcd: {a}")))
        }
        other => Miss::Fatal(Error::failure(format!(
            "etcd error: {}",
            tidy_reason(&other.to_string())
        ))),
    }
}

/// Whether a transport failure happened while connecting, so that the request never left.
fn is_connect_failure(s: &tonic::Status) -> bool {
    let text = crate::error::causes(s).join(" | ").to_lowercase();
    [
        "tcp connect error",
        "error trying to connect",
        "connection refused",
        "certificate",
        "handshake",
        "failed to lookup address",
    ]
    .iter()
    .any(|w| text.contains(w))
}

/// A status's message, or its innermost cause when the message is a generic "transport error".
fn status_reason(s: &tonic::Status) -> Why {
    match std::error::Error::source(s) {
        Some(_) => Why::of(s),
        None => Why::from(tidy_reason(s.message())),
    }
}

fn auth_failed(user: Option<&(String, String)>, why: &str) -> String {
    let who = user
        .map(|(u, _)| format!(" for user '{u}'"))
        .unwrap_or_default();
    format!("etcd authentication failed{who}: {why}")
}

impl Etcd3 {
    /// One range read of every key under `prefix` (as it was at revision `at`, when given).
    async fn range(&mut self, prefix: &str, at: Option<i64>) -> Result<GetResponse> {
        self.call(Call::Read, move |c: Client| async move {
            let mut o = GetOptions::new().with_prefix();
            if let Some(r) = at {
                o = o.with_revision(r);
            }
            // A whole namespace (`list --all`, `events`/`top --all`) can exceed tonic's default
            // 4 MiB answer limit.
            c.kv_client()
                .max_decoding_message_size(MAX_READ_BYTES)
                .get(prefix, Some(o))
                .await
        })
        .await
    }

    /// Connect to the first configured endpoint that answers within its share of the timeout (and
    /// authenticate, when a user is configured); learn the other members' client URLs for fail-over.
    pub async fn connect(settings: &DcsSettings) -> Result<Etcd3> {
        let connector = Connector::new(settings)?;
        let configured = &settings.endpoints;
        let ((client, advertised), at) =
            retry::first_answering(configured, settings.timeout, |ep, budget| {
                connector.open(ep, budget)
            })
            .await?;
        let order = fail_over_order(
            &configured[at],
            &advertised,
            configured,
            settings.use_proxies,
        );
        Ok(Etcd3 {
            client,
            order,
            connector,
            timeout: settings.timeout,
            read_at: None,
            watch: None,
            settings: settings.clone(),
        })
    }

    /// The endpoint in use.
    fn current(&self) -> &str {
        &self.order[0]
    }

    /// Run `op` by the one retry rule ([`retry::run`]): on the member in use, then on the next ones
    /// in fail-over order that answer; the member that answered stays in use.
    ///
    /// `op` gets its own handle on the connection (a cheap clone) so that its future owns what it uses
    /// and is `Send`, as [`KeyValue`]'s boxed futures must be.
    async fn call<T, F, Fut>(&mut self, call: Call, op: F) -> Result<T>
    where
        F: Fn(Client) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, etcd_client::Error>>,
    {
        let order = self.order.clone();
        let (current, connector, op) = (self.client.clone(), &self.connector, &op);
        let (value, client, at) = retry::run(
            &order,
            self.timeout,
            call,
            |ep, budget| {
                let ready = (ep == order[0]).then(|| current.clone());
                async move {
                    match ready {
                        Some(c) => Ok(c),
                        None => connector.open(ep, budget).await.map(|(c, _)| c),
                    }
                }
            },
            |_, c, _| async move {
                op(c)
                    .await
                    .map_err(|e| classify(&e, connector.user.as_ref()))
            },
        )
        .await?;
        self.use_endpoint(client, at);
        Ok(value)
    }

    /// Keep using `order[at]`, whose client is `client`.
    fn use_endpoint(&mut self, client: Client, at: usize) {
        self.client = client;
        retry::prefer(&mut self.order, at);
    }

    /// Move to the next endpoint in fail-over order that answers, after the one in use broke (`why`).
    async fn reconnect(&mut self, why: &str) -> Result<()> {
        let order = self.order.clone();
        let connector = &self.connector;
        let (client, at) = retry::first_answering(&order, self.timeout, |ep, budget| {
            let broken = ep == order[0];
            async move {
                if broken {
                    return Err(Miss::NotSent(Why::from(why)));
                }
                connector.open(ep, budget).await.map(|(c, _)| c)
            }
        })
        .await?;
        self.use_endpoint(client, at);
        Ok(())
    }
}

#[async_trait]
impl KeyValue for Etcd3 {
    async fn read_prefix(&mut self, prefix: &str) -> Result<Vec<Node>> {
        let resp = self.range(prefix, None).await?;
        if let Some(h) = resp.header() {
            self.read_at = Some((prefix.to_string(), h.revision()));
        }
        Ok(nodes_of(resp.kvs(), prefix))
    }

    async fn put(&mut self, key: &str, value: &str, expect: Expect) -> Result<bool> {
        match expect {
            Expect::Any => {
                self.call(Call::Write("write"), move |mut c: Client| async move {
                    c.put(key, value, None).await.map(|_| true)
                })
                .await
            }
            Expect::Absent | Expect::At(_) => {
                let cmp = match expect {
                    Expect::At(v) => Compare::mod_revision(key, CompareOp::Equal, v.raw()),
                    _ => Compare::create_revision(key, CompareOp::Equal, 0),
                };
                let txn = Txn::new()
                    .when([cmp])
                    .and_then([TxnOp::put(key, value, None)]);
                // Never repeated once it may have been sent: a lost compare is a real conflict.
                self.call(
                    Call::Write("compare-and-swap write"),
                    move |mut c: Client| {
                        let txn = txn.clone();
                        async move { c.txn(txn).await.map(|r| r.succeeded()) }
                    },
                )
                .await
            }
        }
    }

    async fn delete_prefix(&mut self, prefix: &str) -> Result<()> {
        self.call(Call::Write("delete"), move |mut c: Client| async move {
            c.delete(prefix, Some(DeleteOptions::new().with_prefix()))
                .await
                .map(|_| ())
        })
        .await
    }

    async fn wait_for_change(&mut self, prefix: &str, timeout: Duration) -> Result<bool> {
        let mut options = WatchOptions::new().with_prefix();
        // Kept until the next read: a slice that saw nothing may be followed by another one.
        if let Some((_, rev)) = self.read_at.as_ref().filter(|(p, _)| p == prefix) {
            options = options.with_start_revision(rev + 1);
        }
        let mut stream = self
            .call(Call::Read, move |mut c: Client| {
                let options = options.clone();
                async move { c.watch(prefix, Some(options)).await }
            })
            .await?;
        let deadline = tokio::time::Instant::now() + timeout;
        let user = self.connector.user.clone();
        loop {
            match tokio::time::timeout_at(deadline, stream.message()).await {
                Err(_) | Ok(Ok(None)) => return Ok(false),
                Ok(Err(e)) => {
                    return Err(match classify(&e, user.as_ref()) {
                        Miss::Fatal(err) => err,
                        Miss::NotSent(why) | Miss::MaybeSent(why) => {
                            let mut a = Attempts::new(timeout);
                            let short = format!("the watch broke: {}", why.short);
                            a.fail(self.current(), Why { short, ..why });
                            a.into_error(&[])
                        }
                    })
                }
                Ok(Ok(Some(resp))) => {
                    // A start revision already compacted away cancels the watch: re-read instead.
                    if !resp.events().is_empty() || resp.canceled() || resp.compact_revision() > 0 {
                        return Ok(true);
                    }
                }
            }
        }
    }

    fn describe(&self) -> String {
        format!("etcd v3 at {}", self.current())
    }

    async fn read_prefix_at(
        &mut self,
        prefix: &str,
        at: Option<i64>,
    ) -> Result<(Vec<Node>, Option<i64>)> {
        let resp = self.range(prefix, at).await.map_err(|e| match at {
            Some(r) if e.message.contains("compacted") => Error::usage(format!(
                "revision {r} is no longer in etcd's history ({}); start without --since-revision",
                e.message
            )),
            _ => e,
        })?;
        let revision = at.or(resp.header().map(|h| h.revision()));
        Ok((nodes_of(resp.kvs(), prefix), revision))
    }

    /// One watch from `after + 1`, kept across calls; when it breaks, the next endpoint that answers
    /// ([`KvChanges::Reconnected`]) and, on the next call, a new watch from the same revision.
    async fn changes(
        &mut self,
        prefix: &str,
        after: Option<i64>,
        timeout: Duration,
    ) -> Result<KvChanges> {
        let next = after.map(|r| r + 1);
        let reuse = matches!(&self.watch, Some((p, n, _)) if p == prefix && Some(*n) == next);
        if !reuse {
            self.watch = None;
            let stream = self
                .call(Call::Read, move |mut c: Client| async move {
                    let mut o = WatchOptions::new().with_prefix();
                    if let Some(n) = next {
                        o = o.with_start_revision(n);
                    }
                    c.watch(prefix, Some(o)).await
                })
                .await?;
            self.watch = Some((prefix.to_string(), next.unwrap_or(0), stream));
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let Some((_, next, stream)) = self.watch.as_mut() else {
                return Ok(KvChanges::Idle);
            };
            let got = match tokio::time::timeout_at(deadline, stream.message()).await {
                Err(_) => return Ok(KvChanges::Idle),
                Ok(got) => got,
            };
            match got {
                Ok(Some(resp)) => {
                    if resp.compact_revision() > 0 {
                        self.watch = None;
                        return Ok(KvChanges::Compacted);
                    }
                    if resp.canceled() {
                        self.watch = None;
                        return Ok(KvChanges::Reread);
                    }
                    let changes: Vec<KeyChange> = resp
                        .events()
                        .iter()
                        .filter_map(|ev| {
                            let kv = ev.kv()?;
                            let put = ev.event_type() == etcd_client::EventType::Put;
                            Some(KeyChange {
                                revision: kv.mod_revision(),
                                key: String::from_utf8_lossy(kv.key()).into_owned(),
                                value: put
                                    .then(|| String::from_utf8_lossy(kv.value()).into_owned()),
                                session: (put && kv.lease() != 0).then_some(kv.lease()),
                            })
                        })
                        .collect();
                    if let Some(last) = changes.last() {
                        *next = last.revision + 1;
                        return Ok(KvChanges::Batch(changes));
                    }
                }
                Ok(None) | Err(_) => {
                    // The member went away (or closed the stream): move on to one that answers.
                    self.watch = None;
                    self.reconnect("the watch broke").await?;
                    return Ok(KvChanges::Reconnected(self.current().to_string()));
                }
            }
        }
    }

    /// One `LeaseTimeToLive` per lease, all at once on the current member (a lease etcd no longer
    /// knows answers a TTL of -1: `None`).
    async fn time_to_live(&mut self, sessions: &[i64]) -> Result<Vec<Option<KeyTtl>>> {
        let ids = sessions.to_vec();
        self.call(Call::Read, move |c: Client| {
            let ids = ids.clone();
            async move {
                let asks = ids.into_iter().map(|id| {
                    let mut c = c.clone();
                    async move { c.lease_time_to_live(id, None).await }
                });
                futures_util::future::join_all(asks)
                    .await
                    .into_iter()
                    .map(|answer| {
                        answer.map(|r| {
                            (r.ttl() >= 0).then(|| KeyTtl {
                                granted: Some(r.granted_ttl() as f64),
                                remaining: r.ttl() as f64,
                            })
                        })
                    })
                    .collect()
            }
        })
        .await
    }

    async fn endpoint_statuses(
        &mut self,
        probe_key: &str,
        budget: Duration,
    ) -> Vec<super::EndpointStatus> {
        statuses(&self.settings, probe_key, budget).await
    }
}

/// The key-values of a range read as nodes relative to `prefix`.
fn nodes_of(kvs: &[etcd_client::KeyValue], prefix: &str) -> Vec<Node> {
    kvs.iter()
        .filter_map(|kv| {
            let key = String::from_utf8_lossy(kv.key());
            let rel = key.strip_prefix(prefix)?.to_string();
            Some(Node {
                key: rel,
                value: String::from_utf8_lossy(kv.value()).into_owned(),
                version: Version::new(kv.mod_revision()),
                session: (kv.lease() != 0).then_some(kv.lease()),
            })
        })
        .collect()
}

mod status;
pub(super) use status::statuses;
