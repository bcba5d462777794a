//! `dsn` and `query`, mirroring patronictl's `get_any_member` and `get_cursor`.

use clap::Args;

use super::Role;
use crate::context::Context;
use crate::error::{Error, Result};

/// `dsn [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct DsnArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Give a dsn of any member with this role
    #[arg(short = 'r', long, value_enum)]
    pub role: Option<Role>,
    /// Generate a dsn for this member
    #[arg(short = 'm', long, value_name = "TEXT")]
    pub member: Option<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
}

/// `query [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// Output format (pretty, tsv, json, yaml)
    #[arg(long = "format", default_value = "tsv", value_name = "TEXT")]
    pub fmt: String,
    /// Execute the SQL commands from this file
    #[arg(short = 'f', long = "file", value_name = "FILENAME")]
    pub p_file: Option<String>,
    /// force password prompt
    #[arg(long)]
    pub password: bool,
    /// database user name
    #[arg(short = 'U', long, value_name = "TEXT")]
    pub username: Option<String>,
    /// Auto update the screen every 2 seconds
    #[arg(short = 'W')]
    pub w: bool,
    /// Auto update the screen every X seconds
    #[arg(short = 'w', long = "watch", value_name = "FLOAT")]
    pub watch: Option<f64>,
    /// The role of the query
    #[arg(short = 'r', long, value_enum)]
    pub role: Option<Role>,
    /// Query a specific member
    #[arg(short = 'm', long, value_name = "TEXT")]
    pub member: Option<String>,
    /// The column delimiter
    #[arg(long, default_value = "\t", value_name = "TEXT")]
    pub delimiter: String,
    /// The SQL commands to execute
    #[arg(short = 'c', long = "command", value_name = "TEXT")]
    pub command: Option<String>,
    /// database name to connect to
    #[arg(short = 'd', long, value_name = "TEXT")]
    pub dbname: Option<String>,
}

/// Run `dsn`.
pub async fn cmd_dsn(_ctx: &mut Context<'_>, _args: DsnArgs) -> Result<()> {
    Err(Error::failure("dsn is not implemented yet"))
}

/// Run `query`.
pub async fn cmd_query(_ctx: &mut Context<'_>, _args: QueryArgs) -> Result<()> {
    Err(Error::failure("query is not implemented yet"))
}
