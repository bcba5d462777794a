//! The command-line tree: patronictl's global options and every patronictl 4.1.5 command with its
//! exact flags, plus patctl's own additions (`--timeout`, `--color`, waits, dry runs). Parsing does no
//! I/O; [`dispatch`] is the one `match` that runs a command.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::commands;
use crate::context::Context;
use crate::error::{Exit, Result};
use crate::output::{ColorChoice, Ui};

/// Command-line interface for interacting with Patroni.
#[derive(Debug, Parser)]
#[command(
    name = "patctl",
    version,
    about = "Command-line interface for interacting with Patroni."
)]
#[command(
    long_about = "Command-line interface for interacting with Patroni.\n\nA fast, drop-in replacement for patronictl: \
same commands, flags, config files, prompts and output, with bounded timeouts and honest exit codes."
)]
#[command(after_help = EXIT_CODES_HELP, disable_help_subcommand = true)]
pub struct Cli {
    /// Configuration file (or a directory of YAML files)
    #[arg(
        short = 'c',
        long = "config-file",
        env = "PATRONICTL_CONFIG_FILE",
        value_name = "PATH"
    )]
    pub config_file: Option<PathBuf>,

    /// The DCS connect url, e.g. etcd3://127.0.0.1:2379/service
    #[arg(
        short = 'd',
        long = "dcs-url",
        visible_alias = "dcs",
        env = "DCS_URL",
        value_name = "URL"
    )]
    pub dcs_url: Option<String>,

    /// Allow connections to SSL sites without certs
    #[arg(short = 'k', long = "insecure")]
    pub insecure: bool,

    /// Timeout in seconds for each DCS and REST call [default: 5] (accepted before or after the
    /// command)
    #[arg(long = "request-timeout", global = true, env = "PATCTL_REQUEST_TIMEOUT", value_name = "SECONDS", value_parser = crate::time::request_seconds)]
    pub request_timeout: Option<Duration>,

    /// The former name of --request-timeout, before the command only (restart's own --timeout is
    /// patronictl's and goes to Patroni)
    #[arg(long = "timeout", hide = true, env = "PATCTL_TIMEOUT", value_name = "SECONDS", value_parser = crate::time::request_seconds)]
    pub legacy_timeout: Option<Duration>,

    /// When to use colours (accepted before or after the command)
    #[arg(long = "color", global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Machine output: one versioned envelope (apiVersion, kind, metadata, data or error) on stdout,
    /// human text on stderr, never a prompt (accepted before or after the command)
    #[arg(
        short = 'o',
        long = "output",
        global = true,
        value_enum,
        value_name = "FORMAT"
    )]
    pub output: Option<crate::output::machine::Machine>,

    /// Use this named context of patctl's contexts file (also PATCTL_CONTEXT; see `context list`)
    #[arg(long = "context", value_name = "NAME")]
    pub context: Option<String>,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

const EXIT_CODES_HELP: &str =
    "Exit codes: 0 success, 1 failure/rejection/abort, 2 usage or config error, \
3 DCS or member unreachable, 4 concurrent change (nothing written), 5 outcome unknown, \
6-8 --wait stage not reached (new leader, former leader rejoined, replicas streaming), 9 unhealthy cluster (--all), \
10 site switchover stopped with no primary site (demoted, not promoted), \
11 wait condition or rollout gate not met in time.";

/// The default of `--request-timeout`.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Nagios checks of a Patroni cluster or node (check_patroni 2.2's checks, options and output)
    Check(commands::check::CheckArgs),
    /// Demote cluster to a standby cluster
    #[command(name = "demote-cluster")]
    DemoteCluster(commands::cluster_role::DemoteArgs),
    /// Check the DCS, the members' REST APIs and the configuration (patctl)
    ///
    /// Every configured DCS endpoint: reachable, version, part of a quorum, leader, authentication,
    /// and for https the certificate's expiry and host name. Every member's REST API: reachable, TLS,
    /// authentication, certificate, Patroni and PostgreSQL versions, clock difference from this
    /// machine. The dynamic configuration: loop_wait + 2*retry_timeout <= ttl and Patroni's minimums,
    /// maximum_lag_on_failover. One PASS/WARN/FAIL/SKIP line per finding; all checks run at once,
    /// bounded by --request-timeout. Exit 1 when a check FAILs (WARN alone exits 0); -o json gives
    /// the DoctorReport kind.
    Doctor(commands::doctor::DoctorArgs),
    /// Generate a dsn for the provided member, defaults to a dsn of the leader
    Dsn(commands::query::DsnArgs),
    /// Edit cluster configuration
    #[command(name = "edit-config")]
    EditConfig(commands::dynamic_config::EditConfigArgs),
    /// Stream what changes in a cluster (leader, members, config, switchovers) from the DCS watch
    Events(commands::events::EventsArgs),
    /// Failover to a replica
    Failover(commands::switchover::FailoverArgs),
    /// Discard scheduled events
    Flush(commands::members::FlushArgs),
    /// Show the history of failovers/switchovers
    History(commands::history::HistoryArgs),
    /// List the Patroni members for a given Patroni
    List(commands::list::ListArgs),
    /// Disable auto failover
    Pause(commands::pause::PauseArgs),
    /// Promote cluster, make it run standalone
    #[command(name = "promote-cluster")]
    PromoteCluster(commands::cluster_role::PromoteArgs),
    /// Query a Patroni PostgreSQL member
    Query(commands::query::QueryArgs),
    /// Reinitialize cluster member
    Reinit(commands::members::ReinitArgs),
    /// Reload cluster member configuration
    Reload(commands::members::ReloadArgs),
    /// Remove cluster from DCS
    Remove(commands::remove::RemoveArgs),
    /// Restart cluster member
    Restart(commands::members::RestartArgs),
    /// Resume auto failover
    Resume(commands::pause::ResumeArgs),
    /// Restart members one at a time, replicas first, gating every step (patctl)
    ///
    /// Every member, or those with --pending, --older-than or --member; replicas one at a time, then
    /// the leader by a switchover (default), in place, or not at all. Before each step the cluster must
    /// have a running leader, every other member streaming on its timeline within the lag limit and
    /// the synchronous standbys it needs; after each restart the member must run again with a new
    /// postmaster start time, stream, and show no pending restart. The first step or gate not met within
    /// --wait-timeout stops the rollout (exit 11); running it again continues. -o json gives the
    /// RolloutReport kind.
    Rollout(commands::rollout::RolloutArgs),
    /// Show cluster configuration
    #[command(name = "show-config")]
    ShowConfig(commands::dynamic_config::ShowConfigArgs),
    /// Switchover to a replica
    Switchover(commands::switchover::SwitchoverArgs),
    /// Show a cluster live, full screen, from the DCS watch (members, state, events; read only)
    Top(commands::top::TopArgs),
    /// Prints ASCII topology for given cluster
    Topology(commands::list::TopologyArgs),
    /// Output version of patronictl command or a running Patroni instance
    Version(commands::version::VersionArgs),
    /// Wait until the cluster meets every --until condition (patctl)
    ///
    /// Follows the cluster in the DCS watch (never a polling sleep) and returns as soon as one
    /// snapshot meets every condition (exit 0); at --wait-timeout fails with exit 11 naming the
    /// conditions not met. -o json gives the last observed state (kind WaitResult).
    Wait(commands::wait::WaitArgs),
    /// patctl's named contexts: list them, choose the current one, show one
    #[command(disable_help_subcommand = true)]
    Context(commands::context::ContextArgs),
    /// Two sites, a cluster and its standby cluster: status, planned switchover proven by LSN,
    /// failover (patctl)
    #[command(disable_help_subcommand = true)]
    Site(commands::site::SiteArgs),
}

impl Cli {
    /// Where the configuration comes from: `-c`, `-d`, `-k` and the request timeout.
    pub fn sources(&self) -> crate::config::Sources {
        crate::config::Sources {
            config_file: self.config_file.clone(),
            dcs_url: self.dcs_url.clone(),
            insecure: self.insecure,
            timeout: self.request_timeout(),
        }
    }

    /// Whether the request timeout was given (flag or variable), so a context's does not apply.
    pub fn timeout_given(&self) -> bool {
        self.request_timeout.is_some() || self.legacy_timeout.is_some()
    }

    /// The timeout of each DCS and REST call: `--request-timeout`, else the former `--timeout`.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
            .or(self.legacy_timeout)
            .unwrap_or(DEFAULT_REQUEST_TIMEOUT)
    }

    /// The clap command, named after the name patctl was invoked as (`patronictl` through a symlink).
    pub fn command_for(bin: &str) -> clap::Command {
        // click keeps the last value of an option given twice; clap would refuse it.
        let mut cmd = <Cli as clap::CommandFactory>::command().args_override_self(true);
        // In place: `mut_subcommand` moves every later subcommand (large structs) on each call,
        // which was a tenth of a whole `list` run.
        for sub in cmd.get_subcommands_mut() {
            *sub = std::mem::take(sub).args_override_self(true);
        }
        if bin == "patronictl" {
            cmd.name("patronictl").bin_name("patronictl")
        } else {
            cmd
        }
    }
}

/// What parsing a command line gives.
pub enum Parsed {
    /// A command to run, and its name for machine output (`list`, `context use`).
    Run {
        /// The parsed command line.
        cli: Box<Cli>,
        /// The command reported in machine output.
        command_name: String,
    },
    /// clap's usage error (or help and version output), with the command line it is about.
    Usage(clap::Error, Vec<OsString>),
    /// An error before the command: `check --config` could not be read.
    Failed(crate::error::Error),
}

/// Parse the command line (`bin`: the name patctl was invoked as). With `check --config FILE`,
/// check_patroni's INI defaults are put into the command line, which is parsed again.
pub fn parse(bin: &str, args: Vec<OsString>) -> Parsed {
    let m = match Cli::command_for(bin).try_get_matches_from(&args) {
        Ok(m) => m,
        Err(e) => return Parsed::Usage(e, args),
    };
    let (args, m) = match commands::check::ini::with_defaults(|| Cli::command_for(bin), &m, &args) {
        Ok(None) => (args, m),
        Ok(Some(full)) => match Cli::command_for(bin).try_get_matches_from(&full) {
            Ok(m) => (full, m),
            Err(e) => return Parsed::Usage(e, full),
        },
        Err(e) => return Parsed::Failed(e),
    };
    match <Cli as clap::FromArgMatches>::from_arg_matches(&m) {
        Ok(cli) => Parsed::Run {
            cli: Box::new(cli),
            command_name: command_name(&m),
        },
        Err(e) => Parsed::Usage(e, args),
    }
}

/// The command reported in machine output: the subcommand, with its own subcommand for `context`.
fn command_name(m: &clap::ArgMatches) -> String {
    match m.subcommand() {
        Some((name @ ("context" | "site"), sub)) => {
            format!("{name} {}", sub.subcommand_name().unwrap_or_default())
        }
        Some((name, _)) => name.to_string(),
        None => String::new(),
    }
}

/// The file name patctl was started as (`patctl` or `patronictl`).
pub fn invoked_name(argv0: Option<&OsString>) -> String {
    argv0
        .map(PathBuf::from)
        .and_then(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
        .filter(|n| n == "patronictl")
        .unwrap_or_else(|| "patctl".to_string())
}

/// Commands that need neither configuration nor network (`version` without a cluster). Returns
/// `None` when the command needs the runtime.
pub fn run_offline(cli: &Cli, ui: &Ui) -> Option<Exit> {
    match &cli.command {
        Command::Version(args) if args.cluster_name.is_none() => {
            ui.line(&commands::version::own_version_line());
            ui.emit(commands::version::version_data(None, Vec::new()));
            Some(Exit::Success)
        }
        _ => None,
    }
}

/// Load the configuration (through the chosen context, if any) and run the command.
pub async fn dispatch(cli: Cli, ui: &Ui) -> Result<()> {
    let env: std::collections::BTreeMap<String, String> = std::env::vars().collect();
    if let Command::Context(args) = &cli.command {
        // Only the contexts file: no cluster configuration needed.
        return commands::context::cmd_context(ui, args, cli.context.as_deref(), &env);
    }
    let (sources, chosen) = crate::config::contexts::resolve(
        &cli.sources(),
        cli.timeout_given(),
        cli.context.as_deref(),
        &env,
    )?;
    let timeout_given = cli.timeout_given();
    if let Command::Site(args) = cli.command {
        // Each site has its own configuration (--primary/--standby); -c/-d do not name one.
        let given = commands::site::Given {
            sources,
            timeout_given,
            env: &env,
        };
        return commands::site::cmd_site(ui, args, &given).await;
    }
    let mut ctx = Context::new(&sources, ui)?;
    if let Some(c) = &chosen {
        c.apply(&mut ctx.settings)?;
    }
    run_command(&mut ctx, cli.command).await
}

/// Run one command in a context: the one dispatch match. Tests call it in-process after giving the
/// context a store of their own ([`Context::set_dcs`]).
pub async fn run_command(ctx: &mut Context<'_>, command: Command) -> Result<()> {
    let result = run_one(ctx, command).await;
    ctx.conclude(result).await
}

async fn run_one(ctx: &mut Context<'_>, command: Command) -> Result<()> {
    match command {
        Command::Check(a) => commands::check::cmd_check(ctx, a).await,
        Command::List(a) => {
            let live = a.w || a.watch.is_some();
            commands::live_view(live, commands::list::cmd_list(ctx, a)).await
        }
        Command::Topology(a) => {
            let live = a.w || a.watch.is_some();
            commands::live_view(live, commands::list::cmd_topology(ctx, a)).await
        }
        Command::ShowConfig(a) => commands::dynamic_config::cmd_show_config(ctx, a).await,
        Command::EditConfig(a) => commands::dynamic_config::cmd_edit_config(ctx, a).await,
        Command::History(a) => commands::history::cmd_history(ctx, a).await,
        Command::Switchover(a) => commands::switchover::cmd_switchover(ctx, a).await,
        Command::Events(a) => commands::live_view(true, commands::events::cmd_events(ctx, a)).await,
        Command::Failover(a) => commands::switchover::cmd_failover(ctx, a).await,
        Command::Pause(a) => commands::pause::cmd_pause(ctx, a).await,
        Command::Resume(a) => commands::pause::cmd_resume(ctx, a).await,
        Command::Restart(a) => commands::members::cmd_restart(ctx, a).await,
        Command::Reinit(a) => commands::members::cmd_reinit(ctx, a).await,
        Command::Reload(a) => commands::members::cmd_reload(ctx, a).await,
        Command::Flush(a) => commands::members::cmd_flush(ctx, a).await,
        Command::Remove(a) => commands::remove::cmd_remove(ctx, a).await,
        Command::Doctor(a) => commands::doctor::cmd_doctor(ctx, a).await,
        Command::Dsn(a) => commands::query::cmd_dsn(ctx, a).await,
        Command::Query(a) => {
            let live = a.w || a.watch.is_some_and(|w| w != 0.0);
            commands::live_view(live, commands::query::cmd_query(ctx, a)).await
        }
        Command::Top(a) => commands::top::cmd_top(ctx, a).await,
        Command::Version(a) => commands::version::cmd_version(ctx, a).await,
        Command::Wait(a) => commands::wait::cmd_wait(ctx, a).await,
        Command::Rollout(a) => commands::rollout::cmd_rollout(ctx, a).await,
        Command::DemoteCluster(a) => commands::cluster_role::cmd_demote(ctx, a).await,
        Command::PromoteCluster(a) => commands::cluster_role::cmd_promote(ctx, a).await,
        Command::Context(a) => {
            let env = std::env::vars().collect();
            commands::context::cmd_context(ctx.ui, &a, None, &env)
        }
        Command::Site(a) => {
            let env = std::env::vars().collect();
            let given = commands::site::Given {
                sources: crate::config::Sources {
                    timeout: crate::cli::DEFAULT_REQUEST_TIMEOUT,
                    ..Default::default()
                },
                timeout_given: false,
                env: &env,
            };
            commands::site::cmd_site(ctx.ui, a, &given).await
        }
    }
}
