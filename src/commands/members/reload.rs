//! `reload`: `POST /reload` to each selected member, in parallel, results in member order.

use crate::error::Exit;
use crate::http_client::Method;
use clap::Args;
use serde_json::Value;

use super::report::{asked, emit, transport_report, Report, Tally};
use super::select::{confirm_members_action, get_members, Selection};
use crate::api::Api;
use crate::commands::fanout::{in_parallel, Job};
use crate::commands::Role;
use crate::context::Context;
use crate::error::Result;
use crate::model::{Cluster, Member};

/// `reload CLUSTER_NAME [MEMBER_NAMES]...`
#[derive(Debug, Args)]
pub struct ReloadArgs {
    /// Cluster name
    pub cluster_name: String,
    /// Members to reload
    pub member_names: Vec<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// Reload only members with this role
    #[arg(short = 'r', long, value_enum, default_value = "any")]
    pub role: Role,
    /// Do not ask for confirmation at any point
    #[arg(long)]
    pub force: bool,
}

/// `loop_wait` as patronictl prints it: the dynamic config's value when truthy, else 10.
fn loop_wait_text(cluster: &Cluster) -> String {
    match cluster.valid_config().and_then(|c| c.get("loop_wait")) {
        Some(Value::Number(n)) if n.as_f64() != Some(0.0) => n.to_string(),
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Bool(true)) => "True".to_string(),
        _ => "10".to_string(),
    }
}

/// Run `reload`.
pub async fn cmd_reload(ctx: &mut Context<'_>, args: ReloadArgs) -> Result<()> {
    let cluster = ctx.cluster(&args.cluster_name, args.group).await?;
    let selection = Selection {
        cluster_name: &args.cluster_name,
        names: &args.member_names,
        role: args.role,
        group: args.group,
        force: args.force,
        action: "reload",
        quoted_role: true,
    };
    let members = get_members(ctx, &cluster, &selection)?;
    let ui = ctx.ui;
    confirm_members_action(ui, &members, args.force, "reload", None, false)?;
    let loop_wait = loop_wait_text(&cluster);
    let api = ctx.api()?;
    let jobs: Vec<Job<Report>> = members
        .iter()
        .map(|m| Box::pin(reload_member(api, m, &loop_wait)) as Job<Report>)
        .collect();
    let mut tally = Tally::new(api);
    in_parallel(jobs, |r| emit(ui, &mut tally, r)).await;
    let data = asked("reload", &args.cluster_name, args.group, &members);
    tally.conclude(ui, data)
}

async fn reload_member(api: &Api, m: &Member, loop_wait: &str) -> Report {
    match api.request(m, Method::POST, "reload", None, None).await {
        Err(f) => transport_report("reload", &m.name, &f),
        Ok(r) => match r.status {
            200 => Report::new(
                format!("No changes to apply on member {}", m.name),
                Exit::Success,
            )
            .answered(&m.name, Some(&r)),
            202 => Report::new(
                format!(
                    "Reload request received for member {} and will be processed within {loop_wait} seconds",
                    m.name
                ),
                Exit::Success,
            )
            .answered(&m.name, Some(&r)),
            _ => Report::rejected("reload", &m.name, &r),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Cluster;

    #[test]
    fn loop_wait_as_printed() {
        let c = |cfg: &str| {
            Cluster::from_nodes(&[crate::model::Node {
                key: "config".into(),
                value: cfg.into(),
                version: crate::dcs::Version::new(3),
                session: None,
            }])
        };
        assert_eq!(loop_wait_text(&c(r#"{"loop_wait":5}"#)), "5");
        assert_eq!(loop_wait_text(&c(r#"{"loop_wait":0}"#)), "10");
        assert_eq!(loop_wait_text(&c(r#"{}"#)), "10");
        assert_eq!(loop_wait_text(&Cluster::default()), "10");
    }
}
