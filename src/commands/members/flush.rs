//! `flush … restart` (`DELETE /restart` per member) and `flush … switchover` (`DELETE /switchover`
//! on the leader, else the failover key removed with compare-and-swap).

use crate::http_client::Method;
use clap::Args;

use super::report::{asked, check_response, emit, transport_report, Report, Tally};
use super::select::{confirm_members_action, get_members, Selection};
use crate::api::Api;
use crate::commands::fanout::{in_parallel, Job};
use crate::commands::Role;
use crate::context::Context;
use crate::dcs::Expect;
use crate::error::{Error, Exit, Result};
use crate::model::Member;
use crate::output::machine::{member_outcome, Outcome};
use crate::py::truth::truthy;
use serde_json::{json, Value};

/// `flush CLUSTER_NAME [MEMBER_NAMES]... {restart|switchover}`
#[derive(Debug, Args)]
pub struct FlushArgs {
    /// Cluster name
    pub cluster_name: String,
    /// Members, then the target: restart or switchover
    #[arg(value_name = "MEMBER_NAMES]... {restart|switchover}", required = true, num_args = 1..)]
    pub rest: Vec<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// Flush only members with this role
    #[arg(short = 'r', long, value_enum, default_value = "any")]
    pub role: Role,
    /// Do not ask for confirmation at any point
    #[arg(long)]
    pub force: bool,
}

/// Run `flush`.
pub async fn cmd_flush(ctx: &mut Context<'_>, args: FlushArgs) -> Result<()> {
    let Some((target, names)) = args.rest.split_last() else {
        return Err(Error::usage("Missing argument '{restart|switchover}'."));
    };
    match target.as_str() {
        "restart" => flush_restart(ctx, &args, names).await,
        "switchover" => flush_switchover(ctx, &args).await,
        other => Err(Error::usage(format!(
            "Invalid value for '{{restart|switchover}}': '{other}' is not one of 'restart', 'switchover'."
        ))),
    }
}

async fn flush_restart(ctx: &mut Context<'_>, args: &FlushArgs, names: &[String]) -> Result<()> {
    let cluster = ctx.cluster(&args.cluster_name, args.group).await?;
    let selection = Selection {
        cluster_name: &args.cluster_name,
        names,
        role: args.role,
        group: args.group,
        force: args.force,
        action: "flush",
        quoted_role: true,
    };
    let members = get_members(ctx, &cluster, &selection)?;
    let ui = ctx.ui;
    confirm_members_action(ui, &members, args.force, "flush", None, false)?;
    let api = ctx.api()?;
    let jobs: Vec<Job<Report>> = members
        .iter()
        .map(|m| Box::pin(flush_member_restart(api, m)) as Job<Report>)
        .collect();
    let mut tally = Tally::new(api);
    in_parallel(jobs, |r| emit(ui, &mut tally, r)).await;
    let mut data = asked("flush restart", &args.cluster_name, args.group, &members);
    data.insert("dcsWrite".into(), Value::Null);
    tally.conclude(ui, data)
}

async fn flush_member_restart(api: &Api, m: &Member) -> Report {
    let action = "flush scheduled restart";
    if !m.data.get("scheduled_restart").is_some_and(truthy) {
        return Report::new(
            format!("No scheduled restart for member {}", m.name),
            Exit::Success,
        )
        .answered(&m.name, None);
    }
    match api.request(m, Method::DELETE, "restart", None, None).await {
        Err(f) => transport_report(action, &m.name, &f),
        Ok(r) => {
            let (line, ok) = check_response(&r, &m.name, action, false);
            Report {
                lines: line.into_iter().collect(),
                verdict: if ok { Exit::Success } else { Exit::Failure },
                outcome: None,
                hint: None,
            }
            .answered(&m.name, Some(&r))
        }
    }
}

/// `flush … switchover`: `DELETE /switchover` leader first until a member answers 200 or 404; when
/// none does, clear the failover key in the DCS with compare-and-swap on the version read.
async fn flush_switchover(ctx: &mut Context<'_>, args: &FlushArgs) -> Result<()> {
    let cluster = ctx.cluster(&args.cluster_name, args.group).await?;
    let ui = ctx.ui;
    let mut data = asked("flush switchover", &args.cluster_name, args.group, &[]);
    let mut outcomes: Vec<Value> = Vec::new();
    let Some(failover) = cluster.scheduled_switchover() else {
        ui.line("No pending scheduled switchover");
        data.insert("members".into(), Value::Array(outcomes));
        data.insert("dcsWrite".into(), Value::Null);
        ui.emit(Value::Object(data));
        return Ok(());
    };
    let targets: Vec<&Member> = cluster
        .members_leader_first()
        .into_iter()
        .filter(|m| m.api_url().is_some())
        .collect();
    let api = ctx.api()?;
    let mut done = None;
    for m in targets {
        match api
            .request(m, Method::DELETE, "switchover", None, None)
            .await
        {
            Ok(r) if r.status == 200 => {
                let line = format!("Success: {}", r.body);
                ui.line(&line);
                outcomes.push(answer(&m.name, Outcome::Succeeded, &r, line));
                done = Some(Ok(()));
                break;
            }
            Ok(r) if r.status == 404 => {
                let line = format!("Failed: {}", r.body);
                ui.line(&line);
                outcomes.push(answer(&m.name, Outcome::Failed, &r, line));
                done = Some(Err(Error::silent(Exit::Failure)));
                break;
            }
            Ok(r) => {
                let line = format!(
                    "Failed: member={}, status_code={}, ({})",
                    m.name, r.status, r.body
                );
                ui.line(&line);
                outcomes.push(answer(&m.name, Outcome::Failed, &r, line));
            }
            Err(f) => {
                ui.warning(&f.message);
                ui.warning(&format!("Member {} is not accessible", m.name));
                outcomes.push(super::report::failure_outcome(&m.name, &f));
            }
        }
    }
    data.insert("members".into(), Value::Array(outcomes));
    if let Some(result) = done {
        data.insert("dcsWrite".into(), Value::Null);
        return ui.emit_result(result, Value::Object(data));
    }
    ui.warning("Failing over to DCS");
    ui.line(&format!(
        "{} Could not find any accessible member of cluster {}",
        crate::time::timestamp(6),
        args.cluster_name
    ));
    let expect = Expect::At(failover.version);
    let written = match ctx.dcs().await {
        Ok(dcs) => {
            dcs.set_failover(&args.cluster_name, args.group, "{}", expect)
                .await
        }
        Err(e) => Err(e),
    };
    let write = if written.is_ok() {
        Outcome::Succeeded
    } else {
        Outcome::of_exit(written.as_ref().err().map_or(Exit::Failure, |e| e.exit))
    };
    data.insert(
        "dcsWrite".into(),
        json!({"key": "failover", "value": {}, "outcome": write.as_str()}),
    );
    ui.emit_result(written, Value::Object(data))
}

/// One member's outcome for an HTTP answer.
fn answer(member: &str, outcome: Outcome, r: &crate::api::Response, line: String) -> Value {
    member_outcome(member, outcome, Some(r.status), Some(&r.body), Some(line))
}
