//! `doctor`: patctl's own health check of everything patronictl depends on (patronictl has no such
//! command). One finding per line, PASS/WARN/FAIL (SKIP where a check cannot be made), exit 1 when
//! anything FAILs:
//! - every configured DCS endpoint ([`dcs`]): reachable, version, part of a quorum, who leads,
//!   authentication, and for `https://` the certificate's expiry and host name;
//! - every member's REST API ([`rest`]): reachable, TLS, authentication, certificate, Patroni and
//!   PostgreSQL versions, clock difference from this machine;
//! - replication ([`replication`]): a running leader, and every replica streaming from it (the one
//!   health judgement, [`crate::model::health`]), with its lag: FAIL when a replica does not stream
//!   (replication cut, stopped, in archive recovery without `nostream`), WARN when its Patroni cannot
//!   tell or it lags beyond `maximum_lag_on_failover`;
//! - the dynamic configuration ([`config`]): Patroni's `loop_wait + 2*retry_timeout <= ttl` rule and
//!   minimums, `maximum_lag_on_failover`.
//!
//! Everything runs at once: the DCS endpoints are probed while the cluster is read, and the members
//! are asked as soon as it is; the whole run is bounded by `--request-timeout` (plus the time to
//! read the cluster, itself bounded by it).

pub mod config;
pub mod dcs;
pub mod render;
pub mod replication;
pub mod rest;

use std::time::Duration;

use clap::Args;

use super::{get_all_members, Role};
use crate::api::Api;
use crate::context::Context;
use crate::dcs::Layout;
use crate::error::{Error, Result};

/// `doctor [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Cluster name (default: `scope` from the configuration)
    pub cluster_name: Option<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
}

/// How a check went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Fine.
    Pass,
    /// Could not be checked here.
    Skip,
    /// Works, but deserves a look.
    Warn,
    /// Broken.
    Fail,
}

impl Status {
    /// The word printed for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Skip => "SKIP",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        }
    }
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// A DCS endpoint, or the DCS as a whole.
    Dcs,
    /// A member's REST API.
    Rest,
    /// The leader and the replicas' streaming.
    Replication,
    /// The dynamic configuration.
    Config,
}

impl Area {
    /// The word printed for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Area::Dcs => "dcs",
            Area::Rest => "rest",
            Area::Replication => "replication",
            Area::Config => "config",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// PASS, WARN, FAIL or SKIP.
    pub status: Status,
    /// What part of the set-up.
    pub area: Area,
    /// The endpoint, member or configuration it is about.
    pub target: String,
    /// The check (`reachable`, `certificate`, `clock`, …).
    pub check: String,
    /// What was found, one line.
    pub message: String,
}

impl Finding {
    /// A finding.
    pub fn new(
        status: Status,
        area: Area,
        target: &str,
        check: &str,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            status,
            area,
            target: target.to_string(),
            check: check.to_string(),
            message: message.into(),
        }
    }
}

/// The whole report.
#[derive(Debug, Clone)]
pub struct Report {
    /// The cluster checked, when one was named or configured.
    pub cluster: Option<String>,
    /// The bound of each probe.
    pub timeout: Duration,
    /// How long the run took.
    pub elapsed: Duration,
    /// Every finding, DCS first, then the members, replication, then the configuration.
    pub findings: Vec<Finding>,
}

impl Report {
    /// How many findings have this status.
    pub fn count(&self, status: Status) -> usize {
        self.findings.iter().filter(|f| f.status == status).count()
    }
}

/// Run `doctor`.
pub async fn cmd_doctor(ctx: &mut Context<'_>, args: DoctorArgs) -> Result<()> {
    let started = tokio::time::Instant::now();
    let dcs_settings = ctx.settings.dcs()?.clone();
    let timeout = dcs_settings.timeout.max(ctx.settings.rest.timeout);
    let deadline = started + timeout;
    let probe_key = Layout::of(&ctx.settings).namespace_dir();
    // A REST client that cannot be made (a bad certificate file) is a finding, not the end.
    let api = Api::new(&ctx.settings.rest);
    let setup = rest::ClientSetup {
        insecure: ctx.settings.rest.insecure,
        credentials: ctx.settings.rest.auth.is_some(),
        client_cert: ctx.settings.rest.certfile.is_some(),
    };
    let name = args
        .cluster_name
        .filter(|n| !n.is_empty())
        .or_else(|| ctx.settings.scope.clone());
    let group = ctx.default_group(args.group);

    let endpoints = dcs::check(&dcs_settings, &probe_key, timeout);
    let members = async {
        let Some(name) = name.clone() else {
            return vec![Finding::new(
                Status::Skip,
                Area::Rest,
                "cluster",
                "members",
                "no cluster name given and no 'scope' in the configuration",
            )];
        };
        let cluster = match tokio::time::timeout_at(deadline, ctx.cluster(&name, group)).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                return vec![Finding::new(
                    Status::Fail,
                    Area::Dcs,
                    &name,
                    "cluster",
                    format!("cannot read the cluster: {}", e.message),
                )]
            }
            Err(_) => {
                return vec![Finding::new(
                    Status::Fail,
                    Area::Dcs,
                    &name,
                    "cluster",
                    format!(
                        "cannot read the cluster within {:.1}s",
                        timeout.as_secs_f64()
                    ),
                )]
            }
        };
        let members = get_all_members(&cluster, group, Role::Any);
        // The members get what is left of the run's time, but at least a second.
        let budget = deadline
            .saturating_duration_since(tokio::time::Instant::now())
            .max(Duration::from_secs(1));
        let mut out = match &api {
            Ok(api) => rest::check(api, &members, budget, setup).await,
            Err(e) => vec![Finding::new(
                Status::Fail,
                Area::Rest,
                "client",
                "configuration",
                e.message.clone(),
            )],
        };
        out.extend(replication::check(&cluster));
        out.extend(config::check(cluster.config.as_ref(), &name));
        out
    };
    let (mut findings, more) = tokio::join!(endpoints, members);
    findings.extend(more);
    let report = Report {
        cluster: name,
        timeout,
        elapsed: started.elapsed(),
        findings,
    };
    if ctx.ui.machine().is_none() {
        // The renderer tidies what servers answered before it colours the verdicts.
        let color = ctx.ui.color();
        ctx.ui.out_styled(&render::text(&report, color), color);
    }
    let data = render::json(&report);
    let failed = report.count(Status::Fail);
    if failed > 0 {
        ctx.ui.set_partial(data);
        let s = if failed == 1 { "" } else { "s" };
        return Err(Error::failure(format!("{failed} check{s} failed")));
    }
    ctx.ui.emit(data);
    Ok(())
}
