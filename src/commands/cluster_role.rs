//! `demote-cluster` and `promote-cluster`, mirroring patronictl's `change_cluster_role`.

use clap::Args;

use crate::context::Context;
use crate::error::{Error, Result};

/// `demote-cluster [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct DemoteArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Do not ask for confirmation at any point
    #[arg(long)]
    pub force: bool,
    /// Address of the remote node
    #[arg(long, value_name = "TEXT")]
    pub host: Option<String>,
    /// Port of the remote node
    #[arg(long, value_name = "INTEGER")]
    pub port: Option<i64>,
    /// Command to restore WAL records from the remote primary
    #[arg(long = "restore-command", value_name = "TEXT")]
    pub restore_command: Option<String>,
    /// Name of the slot on the remote node to use for replication
    #[arg(long = "primary-slot-name", value_name = "TEXT")]
    pub primary_slot_name: Option<String>,
}

/// `promote-cluster [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Do not ask for confirmation at any point
    #[arg(long)]
    pub force: bool,
}

/// Run `demote-cluster`.
pub async fn cmd_demote(_ctx: &mut Context<'_>, _args: DemoteArgs) -> Result<()> {
    Err(Error::failure("demote-cluster is not implemented yet"))
}

/// Run `promote-cluster`.
pub async fn cmd_promote(_ctx: &mut Context<'_>, _args: PromoteArgs) -> Result<()> {
    Err(Error::failure("promote-cluster is not implemented yet"))
}
