//! `list` and `topology`, mirroring patronictl's `members`/`topology` callbacks: one DCS read per
//! cluster name per round, the member table in the chosen format, `-t` timestamps, `-W`/`-w` watching.
//!
//! patctl's own additions: `--all` lists every cluster of the namespace (or of each `--namespace`)
//! from one prefix read per namespace ([`crate::dcs::Dcs::get_namespace`]); stdout is what patronictl
//! prints when given every one of those names, and after each cluster a health line
//! ([`crate::model::health`]) goes to stderr; `--unhealthy` and `--paused` filter, and the command
//! exits 9 ([`crate::error::Exit::Unhealthy`]) when a cluster shown is unhealthy. `-o json|yaml`
//! emits the clusters as data (kind `ClusterList` or `Topology`), with or without `--all`.

use clap::Args;

use super::Watch;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::model::health::{health, Health};
use crate::model::Cluster;
use crate::output::members::data::{clusters_data, health_line, ClusterItem, KeyTtls};
use crate::output::members::{self, Format, MembersView};

/// What `--all` selects, shared by `list` and `topology`.
#[derive(Debug, Clone, Default, Args)]
pub struct AllArgs {
    /// Every cluster of the namespace, read at once; a health line per cluster on stderr; exit 9 when
    /// a cluster shown is unhealthy
    #[arg(long, conflicts_with_all = ["cluster_names", "group"])]
    pub all: bool,
    /// With --all: read this namespace instead of the configured one (repeatable)
    #[arg(long, value_name = "NAMESPACE", requires = "all")]
    pub namespace: Vec<String>,
    /// With --all: show only unhealthy clusters
    #[arg(long, requires = "all")]
    pub unhealthy: bool,
    /// With --all: show only paused clusters
    #[arg(long, requires = "all")]
    pub paused: bool,
}

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
    #[command(flatten)]
    pub all: AllArgs,
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
    #[command(flatten)]
    pub all: AllArgs,
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
        all: a.all,
    };
    run(ctx, args).await
}

/// One cluster of a round, read and judged.
struct Shown {
    name: String,
    namespace: String,
    cluster: Cluster,
    health: Health,
}

async fn run(ctx: &mut Context<'_>, args: ListArgs) -> Result<()> {
    let names = if args.all.all || !args.cluster_names.is_empty() {
        args.cluster_names.clone()
    } else {
        match &ctx.settings.scope {
            Some(s) => vec![s.clone()],
            None => {
                ctx.ui
                    .warning("Listing members: No cluster names were provided");
                return Ok(());
            }
        }
    };
    let fmt = if args.fmt == Format::Yml {
        Format::Yaml
    } else {
        args.fmt
    };
    let machine = ctx.ui.machine().is_some();
    if machine && (args.w || args.watch.is_some()) {
        return Err(Error::usage(
            "-o/--output prints one document: it cannot be combined with -w/-W",
        ));
    }
    let citus = ctx.is_citus(args.group);
    let painted = ctx.ui.color() && matches!(fmt, Format::Pretty | Format::Topology);
    let mut unhealthy: Vec<String> = Vec::new();
    let mut watch = Watch::new(args.w, args.watch, true);
    while watch.next(ctx).await {
        let shown = read_round(ctx, &args, &names).await?;
        let several_namespaces = args.all.namespace.len() > 1;
        let label = |s: &Shown| {
            if several_namespaces {
                format!("{}{}", s.namespace, s.name)
            } else {
                s.name.clone()
            }
        };
        unhealthy = shown
            .iter()
            .filter(|s| !s.health.healthy)
            .map(label)
            .collect();
        if machine {
            let ttls = key_ttls(ctx, &shown).await?;
            let items: Vec<ClusterItem> = shown
                .iter()
                .map(|s| ClusterItem {
                    name: &s.name,
                    namespace: &s.namespace,
                    cluster: &s.cluster,
                    health: &s.health,
                    ttls: &ttls,
                })
                .collect();
            let data = clusters_data(&items, args.group, citus, fmt == Format::Topology);
            if args.all.all && !unhealthy.is_empty() {
                ctx.ui.set_partial(data);
            } else {
                ctx.ui.emit(data);
            }
            break;
        }
        let render = |s: &Shown| -> (String, String) {
            let view = MembersView {
                name: &s.name,
                extended: args.extended,
                fmt,
                group: args.group,
                citus,
                color: painted,
            };
            let table = members::render(&s.cluster, &view);
            let line = if args.all.all {
                format!("{}\n", health_line(&label(s), &s.health))
            } else {
                String::new()
            };
            (table, line)
        };
        let mut text = String::new();
        if args.ts {
            text.push_str(&crate::time::timestamp(0));
            text.push('\n');
        }
        if ctx.ui.err_is_tty() {
            // On a terminal each health line follows its table.
            for s in &shown {
                let (table, line) = render(s);
                text.push_str(&table);
                write_out(ctx, &mut text, painted);
                ctx.ui.err_raw(&crate::output::sanitize(&line));
            }
        } else {
            // Otherwise (a pipe, a file) the text goes out in one write per stream: thousands of
            // clusters stay cheap.
            let mut lines = String::new();
            for (table, line) in crate::par::map_in_order(&shown, PARALLEL_FROM, &render) {
                text.push_str(&table);
                lines.push_str(&line);
            }
            write_out(ctx, &mut text, painted);
            if !lines.is_empty() {
                ctx.ui.err_raw(&crate::output::sanitize(&lines));
            }
        }
        if args.all.all && shown.is_empty() {
            ctx.ui.err_line("No clusters to show");
        }
        if !watch.repeats() {
            // The process ends after this round: freeing thousands of parsed clusters one by one
            // would only delay the exit.
            std::mem::forget(shown);
        }
    }
    if !args.all.all || unhealthy.is_empty() {
        return Ok(());
    }
    const NAMED: usize = 10;
    let mut names = unhealthy[..unhealthy.len().min(NAMED)].join(", ");
    if unhealthy.len() > NAMED {
        names.push_str(&format!(" and {} more", unhealthy.len() - NAMED));
    }
    let n = unhealthy.len();
    Err(Error::unhealthy(format!(
        "{n} cluster{} shown {} unhealthy: {names}",
        if n == 1 { "" } else { "s" },
        if n == 1 { "is" } else { "are" },
    )))
}

/// From this many clusters on, their tables are drawn on several threads (each is independent of
/// the others, and drawing a thousand of them was two thirds of `list --all`).
const PARALLEL_FROM: usize = 64;

/// What is left of every shown member's lease or TTL (Citus workers included), for `keyAgeSeconds`
/// in the machine output only: on etcd v3 it costs one `LeaseTimeToLive` per distinct lease. When
/// the store cannot tell, the ages are null and a warning says why.
async fn key_ttls(ctx: &mut Context<'_>, shown: &[Shown]) -> Result<KeyTtls> {
    let sessions: Vec<i64> = shown
        .iter()
        .flat_map(|s| std::iter::once(&s.cluster).chain(s.cluster.workers.iter().map(|(_, w)| w)))
        .flat_map(|c| c.members.iter().filter_map(|m| m.session))
        .collect();
    let asked = ctx.dcs().await?.key_ttls(sessions).await;
    Ok(asked.unwrap_or_else(|e| {
        ctx.ui
            .warning(&format!("member key ages unknown: {}", e.message));
        KeyTtls::default()
    }))
}

/// Write what has been rendered so far to stdout and empty the buffer.
fn write_out(ctx: &Context<'_>, text: &mut String, painted: bool) {
    if text.is_empty() {
        return;
    }
    // When painted, the renderer made the text safe and added only its own escape codes.
    ctx.ui.out_styled(text, painted);
    text.clear();
}

/// Read one round: with `--all` one prefix read per namespace, filtered; else one read per name.
async fn read_round(
    ctx: &mut Context<'_>,
    args: &ListArgs,
    names: &[String],
) -> Result<Vec<Shown>> {
    let mut shown = Vec::new();
    if args.all.all {
        let namespaces: Vec<Option<&str>> = if args.all.namespace.is_empty() {
            vec![None]
        } else {
            args.all
                .namespace
                .iter()
                .map(|n| Some(n.as_str()))
                .collect()
        };
        for ns in namespaces {
            let read = ctx.dcs().await?.get_namespace(ns).await?;
            for (name, cluster) in read.clusters {
                let health = health(&cluster);
                if (args.all.unhealthy && health.healthy) || (args.all.paused && !health.paused) {
                    continue;
                }
                shown.push(Shown {
                    name,
                    namespace: read.namespace.clone(),
                    cluster,
                    health,
                });
            }
        }
    } else {
        for name in names {
            let cluster = ctx.cluster(name, args.group).await?;
            let namespace = ctx.dcs().await?.layout().namespace_dir();
            shown.push(Shown {
                name: name.clone(),
                namespace,
                health: health(&cluster),
                cluster,
            });
        }
    }
    Ok(shown)
}
