//! `show-config` and `edit-config`, mirroring patronictl's config round trip.

use clap::Args;

use crate::context::Context;
use crate::error::{Error, Result};

/// `show-config [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct ShowConfigArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
}

/// `edit-config [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct EditConfigArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// Do not show changes
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Set specific configuration value. Can be specified multiple times
    #[arg(short = 's', long = "set", value_name = "TEXT")]
    pub kvpairs: Vec<String>,
    /// Set specific PostgreSQL parameter value. Shorthand for -s postgresql.parameters. Can be specified multiple times
    #[arg(short = 'p', long = "pg", value_name = "TEXT")]
    pub pgkvpairs: Vec<String>,
    /// Apply configuration from file. Use - for stdin.
    #[arg(long = "apply", value_name = "TEXT")]
    pub apply_filename: Option<String>,
    /// Apply configuration from file, replacing existing configuration. Use - for stdin.
    #[arg(long = "replace", value_name = "TEXT")]
    pub replace_filename: Option<String>,
    /// Do not ask for confirmation at any point
    #[arg(long)]
    pub force: bool,
}

/// Run `show-config`.
pub async fn cmd_show_config(_ctx: &mut Context<'_>, _args: ShowConfigArgs) -> Result<()> {
    Err(Error::failure("show-config is not implemented yet"))
}

/// Run `edit-config`.
pub async fn cmd_edit_config(_ctx: &mut Context<'_>, _args: EditConfigArgs) -> Result<()> {
    Err(Error::failure("edit-config is not implemented yet"))
}
