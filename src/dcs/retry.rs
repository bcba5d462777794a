//! The one retry and fail-over rule of every DCS back end (etcd v3, etcd v2, ZooKeeper).
//!
//! patronictl's clients (python-etcd, etcd3's gRPC client, kazoo) retry until they get an answer,
//! forever; patctl bounds every call by the configured timeout instead. The rule, here and nowhere
//! else:
//! - endpoints are tried one at a time, in fail-over order, each with an equal share of the time left
//!   ([`Attempts::budget`]);
//! - a try that failed before the request left ([`Miss::NotSent`]: refused, TLS handshake failed, no
//!   session) moves on to the next endpoint;
//! - a try whose request may have reached the server ([`Miss::MaybeSent`]: no answer in time, the
//!   connection lost) moves on for a read, but stops a write at once: its outcome is unknown
//!   ([`unsure`], exit 5), and repeating it elsewhere could apply it twice or lose its
//!   compare-and-swap against itself;
//! - a definite answer ([`Miss::Fatal`]: bad credentials, permission) stops: no other endpoint would
//!   answer otherwise;
//! - when no endpoint answered, the error names each one tried, in order, and why it failed
//!   ([`Attempts::into_error`]), with the underlying errors as its causes.
//!
//! A back end only says how to reach one endpoint and send one request there, and how its errors
//! sort into [`Miss`]; [`run`] does the rest.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use crate::error::{Error, Result};

/// Why one try at one endpoint failed: a short reason for the one-line message, and the texts of
/// the underlying error chain (outermost first; empty when there is none) for the error's causes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Why {
    /// `connection refused`, `no answer within 1.7s`, `TLS certificate error: …`.
    pub(crate) short: String,
    /// The underlying error and its causes, as texts.
    pub(crate) chain: Vec<String>,
}

impl Why {
    /// The reason an error gives: its certificate problem (worded by [`crate::tls::describe`]) or its
    /// innermost cause, with the whole chain kept.
    pub(crate) fn of(e: &(dyn std::error::Error + 'static)) -> Why {
        let chain = crate::error::causes(e);
        let short = crate::tls::describe(&chain).unwrap_or_else(|| crate::error::root_cause(e));
        Why {
            short: tidy_reason(&short),
            chain,
        }
    }

    /// The chain in one line: each text that does not already contain the next one, joined.
    fn detail(&self) -> String {
        let mut parts: Vec<&str> = Vec::new();
        for (i, t) in self.chain.iter().enumerate() {
            let next = self.chain.get(i + 1);
            if next.is_none_or(|n| !t.contains(n.as_str())) && !parts.contains(&t.as_str()) {
                parts.push(t);
            }
        }
        match parts.join(": ") {
            d if d.is_empty() => self.short.clone(),
            d if d.to_lowercase().contains(
                &self
                    .short
                    .trim_start_matches("TLS certificate error: ")
                    .to_lowercase(),
            ) =>
            {
                d
            }
            d => format!("{}: {d}", self.short),
        }
    }
}

impl From<String> for Why {
    fn from(short: String) -> Why {
        Why {
            short,
            chain: Vec::new(),
        }
    }
}

impl From<&str> for Why {
    fn from(short: &str) -> Why {
        Why::from(short.to_string())
    }
}

impl From<Why> for String {
    fn from(why: Why) -> String {
        why.short
    }
}

/// How one try at one endpoint went wrong.
#[derive(Debug)]
pub(crate) enum Miss {
    /// Nothing reached the server (connection refused, TLS handshake failed, no session): safe to try
    /// the next one.
    NotSent(Why),
    /// The request may have reached the server (no answer in time, connection lost): a read moves on
    /// to the next endpoint, a write stops with its outcome unknown.
    MaybeSent(Why),
    /// The server answered with a definite error (bad credentials, permission): no other endpoint will
    /// do better.
    Fatal(Error),
}

/// What a call does, which decides what a [`Miss::MaybeSent`] means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    /// A read (or a connection, a watch): repeated at the next endpoint whatever happened.
    Read,
    /// A write, named for the message (`write`, `compare-and-swap write`, `delete`): never repeated
    /// once it may have been sent.
    Write(&'static str),
}

/// The endpoints tried within one bounded call, and why each failed.
pub(crate) struct Attempts {
    deadline: tokio::time::Instant,
    timeout: Duration,
    failures: Vec<(String, Why)>,
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
    pub(crate) fn fail(&mut self, endpoint: &str, why: impl Into<Why>) {
        self.failures.push((endpoint.to_string(), why.into()));
    }

    /// Why a try that timed out failed.
    pub(crate) fn no_answer(budget: Duration) -> String {
        format!("no answer within {:.1}s", budget.as_secs_f64())
    }

    /// The "DCS unreachable" error (exit 3) naming every endpoint tried and why it failed; `untried`
    /// endpoints are named as not tried because the time was up. Its causes are each endpoint's
    /// failure with its underlying error, in the order tried; its hint says that order again, one
    /// endpoint after the other, and what to check.
    pub(crate) fn into_error(mut self, untried: &[String]) -> Error {
        for ep in untried {
            if !self.failures.iter().any(|(e, _)| e == ep) {
                let why = format!(
                    "not tried: the {}s timeout was up",
                    self.timeout.as_secs_f64()
                );
                self.failures.push((ep.clone(), why.into()));
            }
        }
        let first = self.failures.first().map(|(_, w)| w.short.clone());
        let same = self
            .failures
            .iter()
            .all(|(_, w)| Some(&w.short) == first.as_ref());
        let text = if same {
            let eps: Vec<&str> = self.failures.iter().map(|(e, _)| e.as_str()).collect();
            format!("{} ({})", eps.join(", "), first.unwrap_or_default())
        } else {
            let parts: Vec<String> = self
                .failures
                .iter()
                .map(|(e, w)| format!("{e} ({})", w.short))
                .collect();
            parts.join(", ")
        };
        let order: Vec<String> = self
            .failures
            .iter()
            .map(|(e, w)| format!("{e} ({})", w.short))
            .collect();
        let tls = self
            .failures
            .iter()
            .any(|(_, w)| w.short.contains("certificate"));
        let check = if tls {
            "check the DCS certificate against cacert (and cert/key) in the DCS settings"
        } else {
            "check that the DCS runs there and that its endpoints (--dcs-url, the hosts of the etcd3, etcd or zookeeper section) are right"
        };
        let hint = match order.len() {
            1 => format!("tried {}; {check}", order[0]),
            _ => format!("tried in this order: {}; {check}", order.join(", then ")),
        };
        let causes = self.failures.iter().rev().fold(None, |next, (e, w)| {
            Some(Cause {
                text: format!("{e}: {}", w.detail()),
                next: next.map(Box::new),
            })
        });
        let e = Error::unreachable(format!("DCS unreachable at {text}")).with_hint(hint);
        match causes {
            Some(c) => e.with_source(c),
            None => e,
        }
    }
}

/// One endpoint's failure as a link of an error's chain of causes: the next link is the next
/// endpoint tried.
#[derive(Debug)]
struct Cause {
    text: String,
    next: Option<Box<Cause>>,
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.next
            .as_deref()
            .map(|c| c as &(dyn std::error::Error + 'static))
    }
}

/// A write that may have reached the DCS and got no answer: its outcome is unknown (exit 5). The
/// error it met stays its cause.
pub(crate) fn unsure(e: Error, what: &str) -> Error {
    Error::unknown(format!(
        "the {what} may have been applied before the connection failed, then: {}; check the cluster before retrying",
        e.message
    ))
    .with_source(e)
}

/// Try `endpoints` in order, each within its share of `timeout`, by the rule of this module: at each,
/// `connect` gets a connection to it (nothing is sent yet: running out of time there is
/// [`Miss::NotSent`]), then `send` sends the request on it (running out of time there is
/// [`Miss::MaybeSent`]), within the time left of the share it is given. Returns the answer, the connection it came on, and the index of the
/// endpoint that gave it.
pub(crate) async fn run<'a, C, T, Conn, ConnFut, S, SendFut>(
    endpoints: &'a [String],
    timeout: Duration,
    call: Call,
    mut connect: C,
    mut send: S,
) -> Result<(T, Conn, usize)>
where
    Conn: Clone,
    C: FnMut(&'a str, Duration) -> ConnFut,
    ConnFut: Future<Output = std::result::Result<Conn, Miss>>,
    S: FnMut(&'a str, Conn, Duration) -> SendFut,
    SendFut: Future<Output = std::result::Result<T, Miss>>,
{
    let mut attempts = Attempts::new(timeout);
    for (i, ep) in endpoints.iter().enumerate() {
        let Some(budget) = attempts.budget(endpoints.len() - i) else {
            return Err(attempts.into_error(&endpoints[i..]));
        };
        let deadline = tokio::time::Instant::now() + budget;
        let no_answer = || Why::from(Attempts::no_answer(budget));
        let tried = async {
            let conn = match tokio::time::timeout_at(deadline, connect(ep, budget)).await {
                Ok(conn) => conn?,
                Err(_) => return Err(Miss::NotSent(no_answer())),
            };
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout_at(deadline, send(ep, conn.clone(), left)).await {
                Ok(answer) => answer.map(|v| (v, conn)),
                Err(_) => Err(Miss::MaybeSent(no_answer())),
            }
        };
        match tried.await {
            Ok((v, conn)) => return Ok((v, conn, i)),
            Err(Miss::Fatal(e)) => return Err(e),
            Err(Miss::NotSent(why)) => attempts.fail(ep, why),
            Err(Miss::MaybeSent(why)) => {
                attempts.fail(ep, why);
                if let Call::Write(what) = call {
                    return Err(unsure(attempts.into_error(&[]), what));
                }
            }
        }
    }
    Err(attempts.into_error(&[]))
}

/// [`run`] for a call that only connects: the first endpoint that `connect` reaches, and its index.
pub(crate) async fn first_answering<'a, C, Conn, ConnFut>(
    endpoints: &'a [String],
    timeout: Duration,
    connect: C,
) -> Result<(Conn, usize)>
where
    Conn: Clone,
    C: FnMut(&'a str, Duration) -> ConnFut,
    ConnFut: Future<Output = std::result::Result<Conn, Miss>>,
{
    let (_, conn, at) = run(endpoints, timeout, Call::Read, connect, |_, _, _| async {
        Ok(())
    })
    .await?;
    Ok((conn, at))
}

/// Keep using the endpoint that answered: move `order[at]` to the front.
pub(crate) fn prefer(order: &mut Vec<String>, at: usize) {
    if at > 0 && at < order.len() {
        let ep = order.remove(at);
        order.insert(0, ep);
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
    tidy_reason(&crate::error::root_cause(e))
}

/// Lower-case the usual socket messages so that they read well inside a sentence.
pub(crate) fn tidy_reason(why: &str) -> String {
    let why = why.lines().next().unwrap_or(why).trim();
    match why {
        "Connection refused" => "connection refused".to_string(),
        "Connection reset by peer" => "connection reset".to_string(),
        _ if why.starts_with("TLS certificate error") => why.to_string(),
        _ if why.contains("certificate") || why.contains("Certificate") => {
            format!("TLS certificate error: {why}")
        }
        _ => why.to_string(),
    }
}

#[cfg(test)]
mod backends;
#[cfg(test)]
mod tests;
