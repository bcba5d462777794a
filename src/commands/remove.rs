//! `remove`, mirroring patronictl's `remove`: the member table, three typed confirmations (the
//! cluster name, "Yes I am aware", the leader's name when there is a leader), then a delete of the
//! whole cluster prefix.
//!
//! Beyond patronictl, each typed answer can be given as a flag so the removal can be scripted:
//! `--confirm-cluster NAME`, `--yes-i-am-aware` and `--confirm-leader NAME`. A flag replaces its
//! prompt and is checked exactly like the typed answer; there is deliberately no `--force`.

use clap::Args;

use super::members_table;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::output::members::Format;

const AWARE: &str = "Yes I am aware";

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
    /// Answer the cluster-name confirmation with NAME instead of prompting (patctl only)
    #[arg(long = "confirm-cluster", value_name = "NAME")]
    pub confirm_cluster: Option<String>,
    /// Answer the "Yes I am aware" confirmation instead of prompting (patctl only)
    #[arg(long = "yes-i-am-aware")]
    pub yes_i_am_aware: bool,
    /// Answer the leader-name confirmation with NAME instead of prompting (patctl only)
    #[arg(long = "confirm-leader", value_name = "NAME")]
    pub confirm_leader: Option<String>,
}

/// Run `remove`.
pub async fn cmd_remove(ctx: &mut Context<'_>, args: RemoveArgs) -> Result<()> {
    let name = &args.cluster_name;
    let cluster = ctx.cluster(name, args.group).await?;
    if ctx.settings.citus && args.group.is_none() {
        return Err(Error::failure(
            "For Citus clusters the --group must me specified",
        ));
    }
    let fmt = if args.fmt == Format::Yml {
        Format::Yaml
    } else {
        args.fmt
    };
    ctx.ui
        .out(&members_table(ctx, &cluster, name, args.group, fmt));

    let answer = |flag: Option<String>, prompt: &str| match flag {
        Some(a) => Ok(a),
        None => ctx.ui.prompt(prompt, None),
    };
    let confirm = answer(
        args.confirm_cluster.clone(),
        "Please confirm the cluster name to remove",
    )?;
    if &confirm != name {
        return Err(Error::failure("Cluster names specified do not match"));
    }
    let confirm = answer(
        args.yes_i_am_aware.then(|| AWARE.to_string()),
        &format!(
            "You are about to remove all information in DCS for {name}, please type: \"{AWARE}\""
        ),
    )?;
    if confirm != AWARE {
        return Err(Error::failure(format!(
            "You did not exactly type \"{AWARE}\""
        )));
    }
    if let Some(leader) = cluster.leader_name().filter(|l| !l.is_empty()) {
        let confirm = answer(
            args.confirm_leader.clone(),
            "This cluster currently is healthy. Please specify the leader name to continue",
        )?;
        if confirm != leader {
            return Err(Error::failure(
                "You did not specify the current leader of the cluster",
            ));
        }
    }
    ctx.dcs().await?.delete_cluster(name, args.group).await?;
    ctx.ui.emit(serde_json::json!({
        "cluster": name,
        "group": args.group,
        "leader": cluster.leader_name(),
        "removed": true,
    }));
    Ok(())
}
