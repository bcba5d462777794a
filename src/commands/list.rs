//! `list` and `topology`, mirroring patronictl's `members`/`topology` callbacks: one DCS read per
//! cluster name per round, the member table in the chosen format, `-t` timestamps, `-W`/`-w` watching.

use clap::Args;

use super::Watch;
use crate::context::Context;
use crate::error::Result;
use crate::output::members::{self, Format, MembersView};

/// `list [CLUSTER_NAMES]...`
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Cluster names (default: the configured scope)
    #[arg(value_name = "CLUSTER_NAMES")]
    pub cluster_names: Vec<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// Show some extra information
    #[arg(short = 'e', long)]
    pub extended: bool,
    /// Print timestamp
    #[arg(short = 't', long = "timestamp")]
    pub ts: bool,
    /// Output format
    #[arg(short = 'f', long = "format", value_enum, default_value = "pretty")]
    pub fmt: Format,
    /// Auto update the screen every 2 seconds
    #[arg(short = 'W')]
    pub w: bool,
    /// Auto update the screen every X seconds
    #[arg(short = 'w', long = "watch", value_name = "FLOAT")]
    pub watch: Option<f64>,
}

/// `topology [CLUSTER_NAMES]...`
#[derive(Debug, Args)]
pub struct TopologyArgs {
    /// Cluster names (default: the configured scope)
    #[arg(value_name = "CLUSTER_NAMES")]
    pub cluster_names: Vec<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// Auto update the screen every 2 seconds
    #[arg(short = 'W')]
    pub w: bool,
    /// Auto update the screen every X seconds
    #[arg(short = 'w', long = "watch", value_name = "FLOAT")]
    pub watch: Option<f64>,
}

/// Run `list`.
pub async fn cmd_list(ctx: &mut Context<'_>, args: ListArgs) -> Result<()> {
    run(ctx, args).await
}

/// Run `topology`: `list` in topology format, without `-e` or `-t`.
pub async fn cmd_topology(ctx: &mut Context<'_>, a: TopologyArgs) -> Result<()> {
    let args = ListArgs {
        cluster_names: a.cluster_names,
        group: a.group,
        extended: false,
        ts: false,
        fmt: Format::Topology,
        w: a.w,
        watch: a.watch,
    };
    run(ctx, args).await
}

async fn run(ctx: &mut Context<'_>, args: ListArgs) -> Result<()> {
    let names = if args.cluster_names.is_empty() {
        match &ctx.settings.scope {
            Some(s) => vec![s.clone()],
            None => {
                ctx.ui
                    .warning("Listing members: No cluster names were provided");
                return Ok(());
            }
        }
    } else {
        args.cluster_names.clone()
    };
    let fmt = if args.fmt == Format::Yml {
        Format::Yaml
    } else {
        args.fmt
    };
    let mut watch = Watch::new(args.w, args.watch, true);
    while watch.next(ctx).await {
        let mut out = String::new();
        if args.ts {
            out.push_str(&crate::time::timestamp(0));
            out.push('\n');
        }
        for name in &names {
            let cluster = ctx.cluster(name, args.group).await?;
            let view = MembersView {
                name,
                extended: args.extended,
                fmt,
                group: args.group,
                citus: ctx.is_citus(args.group),
                color: ctx.ui.color() && matches!(fmt, Format::Pretty | Format::Topology),
            };
            out.push_str(&members::render(&cluster, &view));
        }
        if ctx.ui.color() && matches!(fmt, Format::Pretty | Format::Topology) {
            // The renderer made the text safe and added only its own escape codes.
            ctx.ui.out_raw(&out);
        } else {
            ctx.ui.out(&out);
        }
    }
    Ok(())
}
