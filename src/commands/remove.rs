//! `remove`, mirroring patronictl's `remove`: the member table, three typed confirmations, then a
//! delete of the whole cluster prefix.

use clap::Args;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::output::members::Format;

/// `remove CLUSTER_NAME`
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Cluster name
    pub cluster_name: String,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// Output format
    #[arg(short = 'f', long = "format", value_enum, default_value = "pretty")]
    pub fmt: Format,
}

/// Run `remove`.
pub async fn cmd_remove(_ctx: &mut Context<'_>, _args: RemoveArgs) -> Result<()> {
    Err(Error::failure("remove is not implemented yet"))
}
