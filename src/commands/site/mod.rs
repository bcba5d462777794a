//! `site status|switchover|failover` (patctl only; patronictl has the two halves, `demote-cluster`
//! and `promote-cluster`, one cluster at a time): two Patroni clusters as the two sites of a
//! disaster-recovery pair, the primary site and its *standby cluster*, each reached through a named
//! context (`--primary CTX`) or a configuration file (`--primary-config FILE`).
//!
//! Beside this file: [`probe`] (one site as read from its DCS and its leader's PostgreSQL: roles,
//! replication source, LSNs, timelines), [`status`] (the two sites side by side and the verdict),
//! [`switchover`] (the gated planned switch, proven by LSN) and [`failover`] (promoting the standby
//! site when the primary site is gone).

mod failover;
mod probe;
mod status;
mod switchover;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::config::contexts;
use crate::config::Sources;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::output::Ui;

pub use probe::SiteView;

/// `site`
#[derive(Debug, Args)]
pub struct SiteArgs {
    /// What to do with the two sites.
    #[command(subcommand)]
    pub command: SiteCommand,
}

/// The `site` subcommands.
#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// Both sites' leaders and roles, the standby site's replication source, LSNs, lag, timelines and
    /// whether a switchover is possible now
    Status(StatusArgs),
    /// Planned switch of the primary role to the standby site: pre-flight, demote the primary site,
    /// prove by LSN that the standby site has everything, promote it, re-point the old site
    Switchover(SwitchoverArgs),
    /// Promote the standby site when the primary site is gone (refused while it answers)
    Failover(FailoverArgs),
}

/// Where the two sites are.
#[derive(Debug, Clone, Args)]
pub struct Sites {
    /// The primary site: a context of patctl's contexts file
    #[arg(long, value_name = "CONTEXT", conflicts_with = "primary_config")]
    pub primary: Option<String>,
    /// The primary site: a Patroni/patronictl configuration file (as -c)
    #[arg(long = "primary-config", value_name = "PATH")]
    pub primary_config: Option<PathBuf>,
    /// The standby site: a context of patctl's contexts file
    #[arg(long, value_name = "CONTEXT", conflicts_with = "standby_config")]
    pub standby: Option<String>,
    /// The standby site: a Patroni/patronictl configuration file (as -c)
    #[arg(long = "standby-config", value_name = "PATH")]
    pub standby_config: Option<PathBuf>,
    /// PostgreSQL user for the LSN reads (default: libpq's PGUSER; password from PGPASSWORD or
    /// ~/.pgpass)
    #[arg(short = 'U', long = "dbuser", value_name = "TEXT")]
    pub dbuser: Option<String>,
}

/// `site status`
#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub sites: Sites,
    /// The largest lag (bytes of WAL the standby site has not received) still ready to switch
    #[arg(long = "max-lag", value_name = "BYTES", default_value = "1048576")]
    pub max_lag: u64,
}

/// `site switchover`
#[derive(Debug, Args)]
pub struct SwitchoverArgs {
    #[command(flatten)]
    pub sites: Sites,
    /// Refuse in pre-flight when the standby site has not received this many bytes of WAL
    #[arg(long = "max-lag", value_name = "BYTES", default_value = "1048576")]
    pub max_lag: u64,
    /// Give up each step's wait after this many seconds
    #[arg(long = "wait-timeout", value_name = "SECONDS", default_value = "120", value_parser = crate::time::wait_seconds)]
    pub wait_timeout: Duration,
    /// Do not ask for confirmation (the LSN proof is never skipped)
    #[arg(long)]
    pub force: bool,
    /// Print the plan and the pre-flight, change nothing
    #[arg(long = "dry-run")]
    pub dry_run: bool,
}

/// `site failover`
#[derive(Debug, Args)]
pub struct FailoverArgs {
    #[command(flatten)]
    pub sites: Sites,
    /// Promote even though the primary site (or its replication address) still answers
    #[arg(long = "primary-is-lost")]
    pub primary_is_lost: bool,
    /// Give up waiting for the promotion after this many seconds
    #[arg(long = "wait-timeout", value_name = "SECONDS", default_value = "120", value_parser = crate::time::wait_seconds)]
    pub wait_timeout: Duration,
    /// Do not ask for confirmation
    #[arg(long)]
    pub force: bool,
}

/// One site: how it was named and the context its commands run in.
pub struct Site<'a> {
    /// `primary` or `standby` (the role it had when the command started).
    pub label: &'static str,
    /// The context name or configuration file, for messages and the commands suggested.
    pub source: String,
    /// The option that names it again (`--context site-a`, `-c FILE`).
    pub selector: String,
    /// The cluster name (the configured scope).
    pub scope: String,
    /// Its DCS and REST clients.
    pub ctx: Context<'a>,
}

impl Site<'_> {
    /// A patctl command line for this site (`patctl --context X promote-cluster demo --force`).
    pub fn command(&self, what: &str) -> String {
        format!("patctl {} {what} {} --force", self.selector, self.scope)
    }
}

/// What the global options said, for the sites' own configuration.
pub struct Given<'e> {
    /// `-k`, `--request-timeout` and friends.
    pub sources: Sources,
    /// Whether the request timeout was given.
    pub timeout_given: bool,
    /// The environment (the contexts file's path).
    pub env: &'e BTreeMap<String, String>,
}

/// Open a site from its context or configuration file.
fn open<'a>(
    ui: &'a Ui,
    label: &'static str,
    context: Option<&str>,
    config: Option<&PathBuf>,
    given: &Given<'_>,
) -> Result<Site<'a>> {
    let bare = Sources {
        config_file: None,
        dcs_url: None,
        ..given.sources.clone()
    };
    let (mut ctx, source, selector, def) = match (context, config) {
        (Some(name), _) => {
            let path = contexts::path(given.env);
            let file = contexts::read(&path)?.ok_or_else(|| {
                Error::usage(format!(
                    "--{label} {name}: there is no contexts file at {} (PATCTL_CONTEXTS names another)",
                    path.display()
                ))
            })?;
            let def = file.require(name)?.clone();
            let sources = def.sources(&bare, given.timeout_given);
            let ctx = Context::new(&sources, ui)?;
            (
                ctx,
                name.to_string(),
                format!("--context {name}"),
                Some(def),
            )
        }
        (None, Some(file)) => {
            let sources = Sources {
                config_file: Some(file.clone()),
                ..bare
            };
            let ctx = Context::new(&sources, ui)?;
            let shown = file.display().to_string();
            (ctx, shown.clone(), format!("-c {shown}"), None)
        }
        (None, None) => {
            return Err(Error::usage(format!(
                "the {label} site is missing: give --{label} CONTEXT or --{label}-config FILE"
            )))
        }
    };
    if let Some(def) = def {
        def.apply(&mut ctx.settings)?;
    }
    let scope = ctx.cluster_name(None)?;
    Ok(Site {
        label,
        source,
        selector,
        scope,
        ctx,
    })
}

/// Run `site …`.
pub async fn cmd_site(ui: &Ui, args: SiteArgs, given: &Given<'_>) -> Result<()> {
    match args.command {
        SiteCommand::Status(a) => {
            let (p, s) = both(ui, &a.sites, given)?;
            status::cmd_status(ui, p, s, &a).await
        }
        SiteCommand::Switchover(a) => {
            let (p, s) = both(ui, &a.sites, given)?;
            switchover::cmd_switchover(ui, p, s, &a).await
        }
        SiteCommand::Failover(a) => {
            let s = open(
                ui,
                "standby",
                a.sites.standby.as_deref(),
                a.sites.standby_config.as_ref(),
                given,
            )?;
            let p = if a.sites.primary.is_some() || a.sites.primary_config.is_some() {
                Some(open(
                    ui,
                    "primary",
                    a.sites.primary.as_deref(),
                    a.sites.primary_config.as_ref(),
                    given,
                )?)
            } else {
                None
            };
            failover::cmd_failover(ui, p, s, &a).await
        }
    }
}

fn both<'a>(ui: &'a Ui, sites: &Sites, given: &Given<'_>) -> Result<(Site<'a>, Site<'a>)> {
    let p = open(
        ui,
        "primary",
        sites.primary.as_deref(),
        sites.primary_config.as_ref(),
        given,
    )?;
    let s = open(
        ui,
        "standby",
        sites.standby.as_deref(),
        sites.standby_config.as_ref(),
        given,
    )?;
    Ok((p, s))
}
