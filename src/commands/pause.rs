//! `pause` and `resume`, mirroring patronictl's `toggle_pause` and `wait_until_pause_is_applied`.

use clap::Args;

use crate::context::Context;
use crate::error::{Error, Result};

/// `pause [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct PauseArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// Wait until pause is applied on all nodes
    #[arg(long)]
    pub wait: bool,
}

/// `resume [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// Wait until pause is cleared on all nodes
    #[arg(long)]
    pub wait: bool,
}

/// Run `pause`.
pub async fn cmd_pause(_ctx: &mut Context<'_>, _args: PauseArgs) -> Result<()> {
    Err(Error::failure("pause is not implemented yet"))
}

/// Run `resume`.
pub async fn cmd_resume(_ctx: &mut Context<'_>, _args: ResumeArgs) -> Result<()> {
    Err(Error::failure("resume is not implemented yet"))
}
