//! Per-endpoint health of the DCS, for `doctor`: each configured endpoint asked on its own (not through
//! the fail-over client the other commands use), all at once, each within the timeout.
//!
//! What each back end can tell:
//! - etcd v3: the maintenance `Status` call (server version, raft leader and term, alarms) and the
//!   member list; authentication as the client does it, then one count-only read of the namespace.
//! - etcd v2: `GET /version`, `/v2/stats/self` (this member's state and its leader), `/v2/members`,
//!   and one read of the namespace for authentication.
//! - ZooKeeper: the `srvr` four-letter word (the only one ZooKeeper 3.5+ allows by default): version
//!   and mode (`leader`, `follower`, `standalone`); no leader name, member list or authentication.
//!
//! Which back end to ask is [`super::endpoint_statuses`]'s registration, next to `connect`: this
//! module knows none of them.
//!
//! Certificates of `https://` endpoints are read by [`crate::peer_cert`], not here.

use std::time::Duration;

/// What authenticating at one endpoint showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// The configured user was accepted and could read.
    Accepted(String),
    /// No user is configured and anonymous reads work.
    Anonymous,
    /// The endpoint refused the credentials (or their absence): the reason.
    Refused(String),
    /// Could not be checked: why.
    Unchecked(String),
}

/// The health of one DCS endpoint as it reports it.
#[derive(Debug, Clone)]
pub struct EndpointStatus {
    /// The endpoint as configured (`http://127.0.0.1:2379`, `127.0.0.1:2181`).
    pub endpoint: String,
    /// How long the probe took.
    pub elapsed: Duration,
    /// `Err(reason)` when the endpoint did not answer at all.
    pub reachable: std::result::Result<(), String>,
    /// The server's version (`etcd 3.4.23`, `ZooKeeper 3.8.0`).
    pub version: Option<String>,
    /// This member's name in its cluster.
    pub name: Option<String>,
    /// The name (or id) of the member this endpoint follows as leader, when it knows one.
    pub leader: Option<String>,
    /// Whether this endpoint is the leader.
    pub is_leader: Option<bool>,
    /// Whether this endpoint is part of a working quorum (`None`: cannot tell).
    pub quorum: Option<bool>,
    /// How the quorum was judged (`raft term 4`, `mode: follower`).
    pub quorum_note: String,
    /// The names of the cluster's members, as this endpoint lists them (empty: unknown).
    pub members: Vec<String>,
    /// Alarms or errors the server reports about itself (etcd `NOSPACE`, …).
    pub errors: Vec<String>,
    /// Authentication.
    pub auth: Auth,
}

impl EndpointStatus {
    /// A status with nothing known yet but the endpoint.
    pub fn new(endpoint: &str) -> EndpointStatus {
        EndpointStatus {
            endpoint: endpoint.to_string(),
            elapsed: Duration::ZERO,
            reachable: Ok(()),
            version: None,
            name: None,
            leader: None,
            is_leader: None,
            quorum: None,
            quorum_note: String::new(),
            members: Vec::new(),
            errors: Vec::new(),
            auth: Auth::Unchecked("not checked".into()),
        }
    }

    /// An endpoint that did not answer.
    pub fn unreachable(
        endpoint: &str,
        why: impl Into<String>,
        elapsed: Duration,
    ) -> EndpointStatus {
        EndpointStatus {
            elapsed,
            reachable: Err(why.into()),
            auth: Auth::Unchecked("not reachable".into()),
            ..EndpointStatus::new(endpoint)
        }
    }

    /// Every endpoint unreachable for one reason found before any was asked (a client that cannot be
    /// built from the settings).
    pub fn all_unreachable(endpoints: &[String], why: &str) -> Vec<EndpointStatus> {
        endpoints
            .iter()
            .map(|ep| EndpointStatus::unreachable(ep, why, Duration::ZERO))
            .collect()
    }
}

/// How many members of the DCS cluster answered and are part of a working quorum, when every member
/// is configured (else `None`: the missing ones cannot be asked): `(answered, total, needed)`, the
/// quorum being a majority of the members. `doctor` and the switchover pre-flight word it alike:
/// `2 of 3 members answered; the quorum (2) holds`.
pub fn quorum_count(statuses: &[EndpointStatus]) -> Option<(usize, usize, usize)> {
    let total = statuses.iter().map(|s| s.members.len()).max()?;
    if total < 2 || statuses.len() < total {
        return None;
    }
    let answered = statuses
        .iter()
        .filter(|s| s.reachable.is_ok() && s.quorum == Some(true))
        .count();
    Some((answered, total, total / 2 + 1))
}

/// Run `probe` on every endpoint at once, each bounded by `budget` (a probe that runs out becomes an
/// unreachable status), results in the endpoints' order.
pub(super) async fn each<'a, F, Fut>(
    endpoints: &'a [String],
    budget: Duration,
    probe: F,
) -> Vec<EndpointStatus>
where
    F: Fn(&'a str) -> Fut,
    Fut: std::future::Future<Output = EndpointStatus> + 'a,
{
    let jobs = endpoints.iter().map(|ep| {
        let fut = probe(ep.as_str());
        async move {
            let started = tokio::time::Instant::now();
            match tokio::time::timeout(budget, fut).await {
                Ok(mut s) => {
                    s.elapsed = started.elapsed();
                    s
                }
                Err(_) => EndpointStatus::unreachable(
                    ep,
                    super::retry::Attempts::no_answer(budget),
                    started.elapsed(),
                ),
            }
        }
    });
    futures_util::future::join_all(jobs).await
}
