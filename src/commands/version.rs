//! `version`, mirroring patronictl's `version`: the ctl version, then each member's Patroni and
//! PostgreSQL versions from `GET <api_url>`.

use clap::Args;

use crate::context::Context;
use crate::error::{Error, Result};

/// The patronictl release whose behaviour patctl implements.
pub const PATRONICTL_VERSION: &str = "4.1.5";

/// `version [CLUSTER_NAME] [MEMBER_NAMES]...`
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Cluster name
    pub cluster_name: Option<String>,
    /// Members to ask
    pub member_names: Vec<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
}

/// The first line `version` prints, as patronictl prints it.
pub fn own_version_line() -> String {
    format!("patronictl version {PATRONICTL_VERSION}")
}

/// Run `version`.
pub async fn cmd_version(_ctx: &mut Context<'_>, _args: VersionArgs) -> Result<()> {
    Err(Error::failure(
        "version with a cluster name is not implemented yet",
    ))
}
