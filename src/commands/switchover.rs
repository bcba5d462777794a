//! `switchover` and `failover`, mirroring patronictl's `_do_failover_or_switchover`.

use clap::Args;

use crate::context::Context;
use crate::error::{Error, Result};

/// `switchover [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct SwitchoverArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// The name of the current leader
    #[arg(long = "leader", visible_alias = "primary", value_name = "TEXT")]
    pub leader: Option<String>,
    /// The name of the candidate
    #[arg(long, value_name = "TEXT")]
    pub candidate: Option<String>,
    /// Timestamp of a scheduled switchover in unambiguous format (e.g. ISO 8601)
    #[arg(long, value_name = "TEXT")]
    pub scheduled: Option<String>,
    /// Do not ask for confirmation at any point
    #[arg(long)]
    pub force: bool,
}

/// `failover [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct FailoverArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// The name of the candidate
    #[arg(long, value_name = "TEXT")]
    pub candidate: Option<String>,
    /// Do not ask for confirmation at any point
    #[arg(long)]
    pub force: bool,
}

/// Run `switchover`.
pub async fn cmd_switchover(_ctx: &mut Context<'_>, _args: SwitchoverArgs) -> Result<()> {
    Err(Error::failure("switchover is not implemented yet"))
}

/// Run `failover`.
pub async fn cmd_failover(_ctx: &mut Context<'_>, _args: FailoverArgs) -> Result<()> {
    Err(Error::failure("failover is not implemented yet"))
}
