//! `restart`, `reinit`, `reload` and `flush`, mirroring patronictl's `get_members`,
//! `confirm_members_action` and `check_response`.

use clap::Args;

use super::Role;
use crate::context::Context;
use crate::error::{Error, Result};

/// `restart CLUSTER_NAME [MEMBER_NAMES]...`
#[derive(Debug, Args)]
pub struct RestartArgs {
    /// Cluster name
    pub cluster_name: String,
    /// Members to restart
    pub member_names: Vec<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// Restart only members with this role
    #[arg(short = 'r', long, value_enum, default_value = "any")]
    pub role: Role,
    /// Restart a single member only
    #[arg(long = "any")]
    pub p_any: bool,
    /// Timestamp of a scheduled restart in unambiguous format (e.g. ISO 8601)
    #[arg(long, value_name = "TEXT")]
    pub scheduled: Option<String>,
    /// Restart if the PostgreSQL version is less than provided (e.g. 9.5.2)
    #[arg(long = "pg-version", value_name = "TEXT")]
    pub version: Option<String>,
    /// Restart if pending
    #[arg(long)]
    pub pending: bool,
    /// Return error and fail over if necessary when restarting takes longer than this.
    #[arg(long, value_name = "TEXT")]
    pub timeout: Option<String>,
    /// Do not ask for confirmation at any point
    #[arg(long)]
    pub force: bool,
}

/// `reinit CLUSTER_NAME [MEMBER_NAMES]...`
#[derive(Debug, Args)]
pub struct ReinitArgs {
    /// Cluster name
    pub cluster_name: String,
    /// Members to reinitialize
    pub member_names: Vec<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// Do not ask for confirmation at any point
    #[arg(long)]
    pub force: bool,
    /// Get basebackup from leader
    #[arg(long = "from-leader")]
    pub from_leader: bool,
    /// Wait until reinitialization completes
    #[arg(long)]
    pub wait: bool,
}

/// `reload CLUSTER_NAME [MEMBER_NAMES]...`
#[derive(Debug, Args)]
pub struct ReloadArgs {
    /// Cluster name
    pub cluster_name: String,
    /// Members to reload
    pub member_names: Vec<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// Reload only members with this role
    #[arg(short = 'r', long, value_enum, default_value = "any")]
    pub role: Role,
    /// Do not ask for confirmation at any point
    #[arg(long)]
    pub force: bool,
}

/// `flush CLUSTER_NAME [MEMBER_NAMES]... {restart|switchover}`
#[derive(Debug, Args)]
pub struct FlushArgs {
    /// Cluster name
    pub cluster_name: String,
    /// Members, then the target: restart or switchover
    #[arg(value_name = "MEMBER_NAMES]... {restart|switchover}", required = true, num_args = 1..)]
    pub rest: Vec<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// Flush only members with this role
    #[arg(short = 'r', long, value_enum, default_value = "any")]
    pub role: Role,
    /// Do not ask for confirmation at any point
    #[arg(long)]
    pub force: bool,
}

/// Run `restart`.
pub async fn cmd_restart(_ctx: &mut Context<'_>, _args: RestartArgs) -> Result<()> {
    Err(Error::failure("restart is not implemented yet"))
}

/// Run `reinit`.
pub async fn cmd_reinit(_ctx: &mut Context<'_>, _args: ReinitArgs) -> Result<()> {
    Err(Error::failure("reinit is not implemented yet"))
}

/// Run `reload`.
pub async fn cmd_reload(_ctx: &mut Context<'_>, _args: ReloadArgs) -> Result<()> {
    Err(Error::failure("reload is not implemented yet"))
}

/// Run `flush`.
pub async fn cmd_flush(_ctx: &mut Context<'_>, _args: FlushArgs) -> Result<()> {
    Err(Error::failure("flush is not implemented yet"))
}
