//! patronictl's `get_members` (the member table first, role and name filters, the reinit member
//! prompt) and `confirm_members_action`.

use crate::commands::{members_table, Role};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::model::{Cluster, Member};
use crate::output::members::Format;
use crate::output::Ui;

/// What a command asks of `get_members`.
pub(super) struct Selection<'s> {
    pub(super) cluster_name: &'s str,
    pub(super) names: &'s [String],
    pub(super) role: Role,
    pub(super) group: Option<i64>,
    pub(super) force: bool,
    pub(super) action: &'s str,
    /// `reinit` passes the role enum, so its "No … among provided members" has no quotes.
    pub(super) quoted_role: bool,
}

/// patronictl's `get_members`: print the member table, apply the role and name filters, prompt for
/// the member to reinitialize; the result keeps DCS order.
pub(super) fn get_members<'c>(
    ctx: &Context,
    cluster: &'c Cluster,
    s: &Selection,
) -> Result<Vec<&'c Member>> {
    let members = crate::commands::get_all_members(cluster, s.group, s.role);
    let candidates: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
    if s.names.is_empty() && candidates.is_empty() {
        return Err(Error::failure(format!(
            "{} cluster doesn't have any members",
            s.cluster_name
        )));
    }
    ctx.ui.out(&members_table(
        ctx,
        cluster,
        s.cluster_name,
        s.group,
        Format::Pretty,
    ));
    let mut chosen: Vec<String> = Vec::new();
    if !s.names.is_empty() {
        let (known, unknown): (Vec<&String>, Vec<&String>) = s
            .names
            .iter()
            .partition(|n| candidates.contains(&n.as_str()));
        chosen = known.into_iter().cloned().collect();
        if !chosen.is_empty() {
            for n in unknown {
                // patronictl drops such names silently; say so on stderr.
                ctx.ui.warning(&format!(
                    "{n} is not a member of cluster {} with role {}, skipped",
                    s.cluster_name,
                    s.role.as_str()
                ));
            }
        } else {
            let role = if s.quoted_role {
                format!("'{}'", s.role.as_str())
            } else {
                s.role.as_str().to_string()
            };
            return Err(Error::failure(format!("No {role} among provided members")));
        }
    } else if s.action != "reinitialize" {
        chosen = candidates.iter().map(|c| c.to_string()).collect();
    }
    if chosen.is_empty() && !s.force {
        let text = format!(
            "Which member do you want to {} [{}]?",
            s.action,
            candidates.join(", ")
        );
        chosen.push(ctx.ui.prompt(&text, Some(""))?);
    }
    if let Some(bad) = chosen.iter().find(|n| !candidates.contains(&n.as_str())) {
        return Err(Error::failure(format!("{bad} is not a member of cluster")));
    }
    Ok(members
        .into_iter()
        .filter(|m| chosen.contains(&m.name))
        .collect())
}

/// patronictl's `confirm_members_action` (skipped with `--force`).
pub(super) fn confirm_members_action(
    ui: &Ui,
    members: &[&Member],
    force: bool,
    action: &str,
    scheduled: Option<&str>,
    pending: bool,
) -> Result<()> {
    if force {
        return Ok(());
    }
    let names = members
        .iter()
        .map(|m| m.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let (question, aborted) = match scheduled {
        Some(_) if pending => (
            "The nodes needing a restart will be identified at the scheduled time, and might be \
             different from the ones showing pending restart right now. Is this fine?"
                .to_string(),
            format!("Aborted scheduled {action}"),
        ),
        Some(at) => (
            format!("Are you sure you want to schedule {action} of members {names} at {at}?"),
            format!("Aborted scheduled {action}"),
        ),
        None => (
            format!("Are you sure you want to {action} members {names}?"),
            format!("Aborted {action}"),
        ),
    };
    if ui.confirm(&question)? {
        Ok(())
    } else {
        Err(Error::failure(aborted))
    }
}
