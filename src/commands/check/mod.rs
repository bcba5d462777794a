//! `patctl check …`: the Nagios checks of `check_patroni` 2.2 (dalibo), with its check names, options,
//! thresholds, status line (`CLUSTERHASLEADER OK - … | perfdata`) and exit codes (0 OK, 1 WARNING,
//! 2 CRITICAL, 3 UNKNOWN), so that a Nagios command definition only changes the binary name.
//!
//! As check_patroni, the checks ask the Patroni REST API (`/cluster`, `/config`, `/patroni`,
//! `/primary`, `/replica`, `/liveness`, …) of the `-e` endpoints, the first that answers; an HTTP
//! error status from a cluster endpoint stops the check (UNKNOWN), from a node role endpoint it means
//! "no". Without `-e`, patctl takes the endpoints from its usual configuration: the `api_url` of every
//! member in the DCS (leader first) for cluster checks, the member named by `--member` (else the
//! configuration's `name`) for node checks.
//!
//! [`cluster`] and [`node`] hold the checks, [`nagios`] the evaluation and rendering (pure).

pub mod cluster;
pub mod ini;
pub mod nagios;
pub mod node;
mod state;

use std::cell::RefCell;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::Value;

use crate::api::{Api, Method};
use crate::config::RestSettings;
use crate::context::Context;
use crate::error::{Error, Exit, Result};
use crate::model::Member;
use nagios::{Outcome, Report, State, Summary};

/// `patctl check`: check_patroni's options, then the check.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Patroni API endpoint. Can be specified multiple times or as a list of comma separated
    /// addresses (default: the members' REST URLs from the configuration and the DCS)
    #[arg(short = 'e', long = "endpoints", value_name = "URL")]
    pub endpoints: Vec<String>,
    /// File with the client certificate (for -e https endpoints)
    #[arg(long = "cert_file", value_name = "PATH")]
    pub cert_file: Option<PathBuf>,
    /// File with the client key (for -e https endpoints)
    #[arg(long = "key_file", value_name = "PATH")]
    pub key_file: Option<PathBuf>,
    /// The CA certificate (for -e https endpoints)
    #[arg(long = "ca_file", value_name = "PATH")]
    pub ca_file: Option<PathBuf>,
    /// Increase verbosity (-v: the failing results and the performance data on lines of their own)
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Timeout in seconds for the whole check (0 to disable; each request stays bounded by
    /// --request-timeout)
    #[arg(long = "timeout", default_value_t = 2, value_name = "SECONDS")]
    pub timeout: u64,
    /// Without -e: the cluster whose members are asked [default: scope]
    #[arg(long = "cluster", value_name = "NAME")]
    pub cluster: Option<String>,
    /// Without -e, for node checks: the member to ask [default: the configuration's `name`]
    #[arg(short = 'm', long = "member", value_name = "NAME")]
    pub member: Option<String>,
    /// Read option defaults from the specified INI file (check_patroni's: `[options]`,
    /// `[options.<check>]`; only when given)
    #[arg(long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The check to run.
    #[command(subcommand)]
    pub check: Check,
}

/// `--sync-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum SyncType {
    /// sync_standby or quorum_standby.
    #[default]
    Any,
    /// sync_standby.
    Sync,
    /// quorum_standby.
    Quorum,
}

impl SyncType {
    fn counts(self, role: &str) -> bool {
        matches!(
            (self, role),
            (SyncType::Any | SyncType::Sync, "sync_standby")
                | (SyncType::Any | SyncType::Quorum, "quorum_standby")
        )
    }
    fn as_str(self) -> &'static str {
        match self {
            SyncType::Any => "any",
            SyncType::Sync => "sync",
            SyncType::Quorum => "quorum",
        }
    }
}

/// The checks, named as in check_patroni.
#[derive(Debug, Subcommand)]
pub enum Check {
    /// Count the number of nodes in the cluster
    #[command(name = "cluster_node_count")]
    ClusterNodeCount(cluster::NodeCountArgs),
    /// Check if the cluster has a leader
    #[command(name = "cluster_has_leader")]
    ClusterHasLeader,
    /// Check if the cluster has healthy replicas and/or if some are sync or quorum standbies
    #[command(name = "cluster_has_replica")]
    ClusterHasReplica(cluster::ReplicaArgs),
    /// Check if the hash of the configuration has changed
    #[command(name = "cluster_config_has_changed")]
    ClusterConfigHasChanged(cluster::ConfigChangedArgs),
    /// Check if the cluster is in maintenance mode or paused
    #[command(name = "cluster_is_in_maintenance")]
    ClusterIsInMaintenance,
    /// Check if the cluster has a scheduled action (switchover or restart)
    #[command(name = "cluster_has_scheduled_action")]
    ClusterHasScheduledAction,
    /// Check if the node is the primary with the leader lock
    #[command(name = "node_is_primary")]
    NodeIsPrimary,
    /// Check if the node is a leader node
    #[command(name = "node_is_leader")]
    NodeIsLeader(node::LeaderArgs),
    /// Check if the node is a replica with no noloadbalance tag
    #[command(name = "node_is_replica")]
    NodeIsReplica(node::ReplicaArgs),
    /// Check if the node is in pending restart state
    #[command(name = "node_is_pending_restart")]
    NodeIsPendingRestart,
    /// Check if the timeline has changed
    #[command(name = "node_tl_has_changed")]
    NodeTlHasChanged(node::TimelineArgs),
    /// Check if the version is equal to the input
    #[command(name = "node_patroni_version")]
    NodePatroniVersion(node::VersionArgs),
    /// Check if the node is alive ie patroni is running
    #[command(name = "node_is_alive")]
    NodeIsAlive,
}

impl Check {
    /// check_patroni's command name.
    pub fn command_name(&self) -> &'static str {
        match self {
            Check::ClusterNodeCount(_) => "cluster_node_count",
            Check::ClusterHasLeader => "cluster_has_leader",
            Check::ClusterHasReplica(_) => "cluster_has_replica",
            Check::ClusterConfigHasChanged(_) => "cluster_config_has_changed",
            Check::ClusterIsInMaintenance => "cluster_is_in_maintenance",
            Check::ClusterHasScheduledAction => "cluster_has_scheduled_action",
            Check::NodeIsPrimary => "node_is_primary",
            Check::NodeIsLeader(_) => "node_is_leader",
            Check::NodeIsReplica(_) => "node_is_replica",
            Check::NodeIsPendingRestart => "node_is_pending_restart",
            Check::NodeTlHasChanged(_) => "node_tl_has_changed",
            Check::NodePatroniVersion(_) => "node_patroni_version",
            Check::NodeIsAlive => "node_is_alive",
        }
    }

    /// The status line's name: check_patroni's resource class name.
    pub fn status_name(&self) -> &'static str {
        match self {
            Check::ClusterNodeCount(_) => "ClusterNodeCount",
            Check::ClusterHasLeader => "ClusterHasLeader",
            Check::ClusterHasReplica(_) => "ClusterHasReplica",
            Check::ClusterConfigHasChanged(_) => "ClusterConfigHasChanged",
            Check::ClusterIsInMaintenance => "ClusterIsInMaintenance",
            Check::ClusterHasScheduledAction => "ClusterHasScheduledAction",
            Check::NodeIsPrimary => "NodeIsPrimary",
            Check::NodeIsLeader(_) => "NodeIsLeader",
            Check::NodeIsReplica(_) => "NodeIsReplica",
            Check::NodeIsPendingRestart => "NodeIsPendingRestart",
            Check::NodeTlHasChanged(_) => "NodeTLHasChanged",
            Check::NodePatroniVersion(_) => "NodePatroniVersion",
            Check::NodeIsAlive => "NodeIsAlive",
        }
    }

    fn is_cluster_check(&self) -> bool {
        self.command_name().starts_with("cluster_")
    }
}

/// Why a probe stopped.
#[derive(Debug, Clone)]
pub enum Stop {
    /// No endpoint answered (nagiosplugin's `CheckError`): UNKNOWN with a summary.
    Unreachable,
    /// An endpoint answered with an error status (check_patroni's `APIError`).
    Status(String),
    /// Any other error check_patroni would not catch: `NAME UNKNOWN: <exception>: <message>`.
    Crash(String),
    /// An error before nagiosplugin's `Check` runs (the state file read by the check's function):
    /// `UNKNOWN: <exception>: <message>`, without the check's name.
    Early(String),
}

impl Stop {
    fn outcome(self) -> Outcome {
        match self {
            Stop::Unreachable => {
                Outcome::Unknown("Connection failed for all provided endpoints".into())
            }
            Stop::Status(m) => Outcome::Aborted(format!("check_patroni.types.APIError: {m}")),
            Stop::Crash(m) => Outcome::Aborted(m),
            Stop::Early(m) => Outcome::Early(m),
        }
    }
}

/// An endpoint: the URL as given (for messages) and a member carrying it (for the REST client).
struct Endpoint {
    label: String,
    member: Member,
}

/// The REST side of a check: the endpoints, tried in order, as check_patroni's `rest_api`.
pub struct Rest {
    api: Api,
    endpoints: Vec<Endpoint>,
    detailed: RefCell<Option<std::result::Result<bool, Stop>>>,
}

/// An HTTP answer: the status, and the body as JSON (`Null` when it is not JSON).
pub type Answer = std::result::Result<Value, Stop>;

impl Rest {
    /// GET `service` from the first endpoint that answers; a status other than 200 is `Stop::Status`.
    pub async fn get(&self, service: &str) -> Answer {
        for e in &self.endpoints {
            let Ok(r) = self
                .api
                .request(&e.member, Method::GET, service, None, None)
                .await
            else {
                continue;
            };
            if r.status != 200 {
                return Err(Stop::Status(format!(
                    "Failed to connect to {}/{service} status code {}",
                    e.label, r.status
                )));
            }
            return Ok(r.json());
        }
        Err(Stop::Unreachable)
    }

    /// GET `/cluster`, and learn [`Rest::has_detailed_states`] from the answer when it can: Patroni
    /// 4.1 and later list `receive_lsn` for every member but the leader, which proves the answering
    /// Patroni is past 3.0.4 without asking `/patroni` (one round trip less, and `/patroni` is the
    /// slower endpoint: it asks PostgreSQL). Otherwise the check asks `/patroni` when it needs to.
    pub async fn cluster(&self) -> Answer {
        let answer = self.get("cluster").await?;
        if self.detailed.borrow().is_none() && lists_receive_lsn(&answer) {
            *self.detailed.borrow_mut() = Some(Ok(true));
        }
        Ok(answer)
    }

    /// Whether Patroni is 3.0.4 or later (it reports `streaming` and `in archive recovery`); asked
    /// once, from `/patroni`, as check_patroni's `has_detailed_states`.
    pub async fn has_detailed_states(&self) -> std::result::Result<bool, Stop> {
        let known = self.detailed.borrow().clone();
        if let Some(d) = known {
            return d;
        }
        let d = self.fetch_detailed_states().await;
        *self.detailed.borrow_mut() = Some(d.clone());
        d
    }

    async fn fetch_detailed_states(&self) -> std::result::Result<bool, Stop> {
        let p = self.get("patroni").await?;
        let version = p["patroni"]["version"].as_str().unwrap_or("");
        let parts: std::result::Result<Vec<i64>, _> = version
            .splitn(3, '.')
            .map(|v| v.trim().parse::<i64>())
            .collect();
        let parts = parts.map_err(|_| {
            Stop::Crash(format!(
                "ValueError: invalid literal for int() with base 10: '{version}'"
            ))
        })?;
        Ok(parts.as_slice() >= [3, 0, 4].as_slice())
    }
}

/// Whether a `/cluster` answer has a member with `receive_lsn` (only Patroni 4.1+ writes it).
fn lists_receive_lsn(cluster: &Value) -> bool {
    cluster["members"]
        .as_array()
        .is_some_and(|ms| ms.iter().any(|m| m.get("receive_lsn").is_some()))
}

fn endpoint_of(label: &str, url: &str) -> Endpoint {
    let value = serde_json::json!({ "api_url": url }).to_string();
    Endpoint {
        label: label.to_string(),
        member: Member::from_node(label, None, None, &value),
    }
}

/// The endpoints and REST client: `-e` (with check_patroni's TLS options), else the members' REST
/// URLs from the DCS (with the `ctl:`/`restapi:` settings).
async fn rest_for(ctx: &mut Context<'_>, args: &CheckArgs) -> Result<Rest> {
    let given: Vec<String> = args
        .endpoints
        .iter()
        .flat_map(|e| e.split(',').map(|s| s.trim().to_string()))
        .collect();
    if !given.is_empty() {
        let rest = RestSettings {
            auth: None,
            auth_key: None,
            insecure: false,
            cacert: args.ca_file.clone(),
            certfile: args.cert_file.clone(),
            keyfile: args.key_file.clone(),
            keyfile_password: None,
            timeout: ctx.settings.rest.timeout,
        };
        return Ok(Rest {
            api: Api::new(&rest)?,
            endpoints: given.iter().map(|e| endpoint_of(e, e)).collect(),
            detailed: RefCell::new(None),
        });
    }
    let name = ctx.cluster_name(args.cluster.clone())?;
    let cluster = ctx.cluster(&name, None).await?;
    let members: Vec<&Member> = if args.check.is_cluster_check() {
        cluster.members_leader_first()
    } else {
        let wanted = args
            .member
            .clone()
            .or_else(|| {
                ctx.settings
                    .raw
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .ok_or_else(|| {
                Error::usage(format!(
                    "{} checks one node: give -e URL, or --member NAME",
                    args.check.command_name()
                ))
            })?;
        // A member whose key is gone is a node that is down: UNKNOWN, as an endpoint that does not answer.
        let m = cluster.member(&wanted).ok_or_else(|| {
            Error::unreachable(format!(
                "{wanted} is not a member of cluster {name} (no member key in the DCS)"
            ))
        })?;
        vec![m]
    };
    let endpoints = members
        .iter()
        .filter_map(|m| {
            let url = Api::url(m, "x")?;
            let base = url.strip_suffix("/x")?.to_string();
            Some(endpoint_of(&base, &base))
        })
        .collect();
    Ok(Rest {
        api: Api::new(&ctx.settings.rest)?,
        endpoints,
        detailed: RefCell::new(None),
    })
}

/// `patctl check`: run the check, print the plugin output, exit with the Nagios code.
pub async fn cmd_check(ctx: &mut Context<'_>, args: CheckArgs) -> Result<()> {
    let name = args.check.status_name();
    // Past clap, every error is a Nagios status (exit 3 UNKNOWN), never click's exit 2, which
    // Nagios would read as CRITICAL.
    let report = match usage(&args.check).and_then(|()| prepare(&args.check)) {
        Err(e) => nagios::evaluate("", Outcome::Aborted(e), &Summary::default()),
        Ok(()) => {
            let (outcome, summary) = match rest_for(ctx, &args).await {
                Ok(rest) => probe_bounded(&rest, &args).await,
                // patctl's own failures (no configuration, DCS down, no member to ask): UNKNOWN.
                Err(e) => (Outcome::Unknown(e.message.clone()), Summary::default()),
            };
            nagios::evaluate(name, outcome, &summary)
        }
    };
    finish(ctx, &args, &report)
}

/// The usage errors check_patroni raises inside a check's function (click's `UsageError`, which
/// nagiosplugin's `guarded` turns into `UNKNOWN: click.exceptions.UsageError: …`, exit 3).
fn usage(check: &Check) -> std::result::Result<(), String> {
    let usage_error = |what: &str| Err(format!("click.exceptions.UsageError: {what}"));
    let both = |what: &str| usage_error(&format!("{what} should be provided for this service"));
    match check {
        Check::ClusterConfigHasChanged(a) if a.hash.is_some() == a.state_file.is_some() => {
            both("Either --hash or --state-file")
        }
        Check::NodeTlHasChanged(a) if a.timeline.is_some() == a.state_file.is_some() => {
            both("Either --timeline or --state-file")
        }
        Check::NodeIsReplica(a) if a.is_sync && a.max_lag.is_some() => usage_error(
            "--is-sync and --max-lag cannot be provided at the same time for this service",
        ),
        Check::NodeIsReplica(a) if a.is_sync && a.is_async => usage_error(
            "--is-sync and --is-async cannot be provided at the same time for this service",
        ),
        _ => Ok(()),
    }
}

/// Threshold parsing done before anything is asked; its errors are nagiosplugin's unnamed UNKNOWN.
fn prepare(check: &Check) -> std::result::Result<(), String> {
    match check {
        Check::ClusterNodeCount(a) => a.ranges().map(|_| ()),
        Check::ClusterHasReplica(a) => a.ranges().map(|_| ()),
        _ => Ok(()),
    }
}

async fn probe_bounded(rest: &Rest, args: &CheckArgs) -> (Outcome, Summary) {
    let run = probe(rest, &args.check);
    if args.timeout == 0 {
        return run.await;
    }
    match tokio::time::timeout(Duration::from_secs(args.timeout), run).await {
        Ok(r) => r,
        Err(_) => (
            Outcome::Aborted(format!(
                "Timeout: check execution aborted after {}",
                args.timeout
            )),
            Summary::default(),
        ),
    }
}

async fn probe(rest: &Rest, check: &Check) -> (Outcome, Summary) {
    let r = match check {
        Check::ClusterNodeCount(a) => cluster::node_count(rest, a).await,
        Check::ClusterHasLeader => cluster::has_leader(rest).await,
        Check::ClusterHasReplica(a) => cluster::has_replica(rest, a).await,
        Check::ClusterConfigHasChanged(a) => cluster::config_has_changed(rest, a).await,
        Check::ClusterIsInMaintenance => cluster::is_in_maintenance(rest).await,
        Check::ClusterHasScheduledAction => cluster::has_scheduled_action(rest).await,
        Check::NodeIsPrimary => node::is_primary(rest).await,
        Check::NodeIsLeader(a) => node::is_leader(rest, a).await,
        Check::NodeIsReplica(a) => node::is_replica(rest, a).await,
        Check::NodeIsPendingRestart => node::is_pending_restart(rest).await,
        Check::NodeTlHasChanged(a) => node::tl_has_changed(rest, a).await,
        Check::NodePatroniVersion(a) => node::patroni_version(rest, a).await,
        Check::NodeIsAlive => node::is_alive(rest).await,
    };
    match r {
        Ok((metrics, summary)) => (Outcome::Measured(metrics), summary),
        Err(stop) => (stop.outcome(), Summary::default()),
    }
}

/// A check's result: its metrics and summary, or why it stopped.
pub type Probed = std::result::Result<(Vec<nagios::Metric>, Summary), Stop>;

fn finish(ctx: &mut Context<'_>, args: &CheckArgs, report: &Report) -> Result<()> {
    let text = nagios::render(report, args.verbose);
    if ctx.ui.machine().is_some() {
        ctx.ui
            .emit(nagios::to_json(args.check.command_name(), report, &text));
    } else {
        ctx.ui.out(&text);
    }
    // The process exit code is the Nagios state (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN: README's
    // table for `check`), carried by the `Exit` of the same number; nothing more is printed.
    match report.state {
        State::Ok => Ok(()),
        State::Warning => Err(Error::silent(Exit::Failure)),
        State::Critical => Err(Error::silent(Exit::Usage)),
        State::Unknown => Err(Error::silent(Exit::Unreachable)),
    }
}
