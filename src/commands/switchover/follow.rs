//! `--wait`: follow a switchover or failover in the DCS (an etcd watch on the cluster prefix, not a
//! sleep loop) until the new leader holds the leader key and runs as primary, showing progress on
//! stderr, then print the member table and how long it took.
//!
//! patronictl has no such wait; its server side polls the same conditions for 2 × max(10, loop_wait)
//! seconds (`poll_failover_result`): a new leader means success, a `failover` key removed while the old
//! leader keeps the lock means failure.

use std::time::{Duration, Instant};

use super::{Action, Plan};
use crate::commands::members_table;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::model::Cluster;
use crate::output::members::Format;
use crate::output::Ui;

/// Where the switch stands in one DCS read.
#[derive(Debug, PartialEq, Eq)]
enum State {
    /// `leader` holds the leader key and runs as primary.
    Done { leader: String },
    /// The request was dropped and the old leader kept the lock.
    Failed(String),
    /// Still under way; the text says what is seen.
    Pending(String),
}

/// Roles a member shows once it runs as the leader. `promoted` is left out on purpose: Patroni
/// writes the new timeline's history line after it, and reports `primary` one HA loop later.
const LEADING_ROLES: [&str; 3] = ["primary", "master", "standby_leader"];

/// Judge one read of the cluster against the plan. A missing `failover` key means failure only once
/// the key is `known` to have been written (after a timeout, the request may never have arrived).
fn assess(cluster: &Cluster, old_leader: Option<&str>, wanted: Option<&str>, known: bool) -> State {
    let leader = cluster.leader_name();
    let changed = leader.is_some() && leader != old_leader;
    if let Some(l) = leader.filter(|_| changed) {
        let member = cluster.member(l);
        let running = member.is_some_and(|m| {
            m.state() == "running"
                && m.str_field("role")
                    .is_some_and(|r| LEADING_ROLES.contains(&r))
        });
        if running {
            return State::Done {
                leader: l.to_string(),
            };
        }
        let seen = member
            .map(|m| {
                format!(
                    "{} {}",
                    m.state(),
                    m.str_field("role").unwrap_or("(no role)")
                )
            })
            .unwrap_or_else(|| "no member key".into());
        return State::Pending(format!("{l} holds the leader key ({seen})"));
    }
    if known && cluster.failover.is_none() && leader.is_some() && leader == old_leader {
        return State::Failed(format!(
            "the failover key was removed and {} is still the leader",
            leader.unwrap_or_default()
        ));
    }
    let mut seen = match leader {
        Some(l) => format!("leader {l}"),
        None => "no leader".to_string(),
    };
    if let Some(w) = wanted {
        let st = cluster
            .member(w)
            .map(|m| format!("{} {}", m.state(), m.str_field("role").unwrap_or("")))
            .unwrap_or_else(|| "no member key".into());
        seen.push_str(&format!(", {w} {}", st.trim_end()));
    }
    if cluster.failover.is_some() {
        seen.push_str(", failover key set");
    }
    State::Pending(seen)
}

/// The progress display: one rewritten line on a terminal, a plain line per new state otherwise.
struct Progress<'a> {
    ui: &'a Ui,
    tty: bool,
    last: String,
    shown: bool,
}

impl<'a> Progress<'a> {
    fn new(ui: &'a Ui) -> Self {
        Progress {
            ui,
            tty: ui.err_is_tty(),
            last: String::new(),
            shown: false,
        }
    }

    fn show(&mut self, action: Action, started: Instant, seen: &str) {
        let elapsed = started.elapsed().as_secs_f64();
        if self.tty {
            self.ui.status(&format!(
                "Waiting for the {} ({elapsed:.1} s): {seen}",
                action.name()
            ));
            self.shown = true;
        } else if seen != self.last {
            self.ui.err_line(&format!("{elapsed:6.1} s  {seen}"));
        }
        self.last = seen.to_string();
    }

    fn finish(&mut self) {
        if self.shown {
            self.ui.status_done();
            self.shown = false;
        }
    }
}

/// Follow the switch until it is done, failed, or `deadline` passes (exit 5). `cluster` is the
/// latest read; progress is measured from `started`, when the request went out; `key_written` says
/// whether the `failover` key is known to have been written.
pub(super) async fn run(
    ctx: &mut Context<'_>,
    plan: &Plan,
    (started, deadline): (Instant, Instant),
    mut cluster: Cluster,
    key_written: bool,
) -> Result<()> {
    let ui = ctx.ui;
    let old_leader = plan.cluster.leader_name();
    let mut progress = Progress::new(ui);
    let mut known = key_written;
    loop {
        known |= cluster.failover.is_some();
        let seen = match assess(&cluster, old_leader, plan.wanted(), known) {
            State::Done { leader } => {
                progress.finish();
                ui.out(&final_table(ctx, plan, &cluster));
                ui.line(&completed_line(plan, started, &leader));
                return Ok(());
            }
            State::Failed(why) => {
                progress.finish();
                ui.out(&final_table(ctx, plan, &cluster));
                return Err(Error::failure(format!(
                    "{} failed: {why}",
                    plan.action.title()
                )));
            }
            State::Pending(seen) => seen,
        };
        progress.show(plan.action, started, &seen);
        let now = Instant::now();
        if now >= deadline {
            progress.finish();
            ui.out(&final_table(ctx, plan, &cluster));
            return Err(Error::unknown(format!(
                "{} not confirmed after {:.1} s ({seen}); check `patctl list`",
                plan.action.title(),
                started.elapsed().as_secs_f64()
            )));
        }
        let mut slice = deadline - now;
        if progress.tty {
            // Only to keep the elapsed time on the status line ticking.
            slice = slice.min(Duration::from_secs(1));
        }
        let changed = watch(ctx, plan, slice).await?;
        if changed {
            cluster = ctx
                .cluster(&plan.name, plan.group)
                .await
                .map_err(lost_dcs)?;
        }
    }
}

async fn watch(ctx: &mut Context<'_>, plan: &Plan, slice: Duration) -> Result<bool> {
    ctx.dcs()
        .await
        .map_err(lost_dcs)?
        .wait_for_change(&plan.name, plan.group, slice)
        .await
        .map_err(lost_dcs)
}

/// The request went out, so losing the DCS now leaves the outcome unknown (exit 5).
fn lost_dcs(e: Error) -> Error {
    Error::unknown(format!(
        "{}; the request was sent but its outcome is unknown",
        e.message
    ))
}

/// `Switchover completed in 4.2 s: node2 is the leader`.
fn completed_line(plan: &Plan, started: Instant, leader: &str) -> String {
    let mut line = format!(
        "{} completed in {:.1} s: {leader} is the leader",
        plan.action.title(),
        started.elapsed().as_secs_f64()
    );
    if let Some(w) = plan.wanted().filter(|w| *w != leader) {
        line.push_str(&format!(" (instead of {w})"));
    }
    line
}

/// The member table printed when the wait ends, whichever way it ends.
fn final_table(ctx: &Context, plan: &Plan, cluster: &Cluster) -> String {
    members_table(ctx, cluster, &plan.name, plan.group, Format::Pretty)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dcs::Version;
    use crate::model::Node;

    fn cluster(leader: Option<&str>, failover: bool, node2: &str) -> Cluster {
        let mut nodes = vec![
            Node {
                key: "members/node1".into(),
                value: r#"{"state":"running","role":"primary"}"#.into(),
                version: Version::new(1),
                session: None,
            },
            Node {
                key: "members/node2".into(),
                value: node2.into(),
                version: Version::new(1),
                session: None,
            },
        ];
        if let Some(l) = leader {
            nodes.push(Node {
                key: "leader".into(),
                value: l.into(),
                version: Version::new(2),
                session: None,
            });
        }
        if failover {
            nodes.push(Node {
                key: "failover".into(),
                value: r#"{"leader":"node1","member":"node2"}"#.into(),
                version: Version::new(3),
                session: None,
            });
        }
        Cluster::from_nodes(&nodes)
    }

    const REPLICA: &str = r#"{"state":"running","role":"replica"}"#;
    const PRIMARY: &str = r#"{"state":"running","role":"primary"}"#;

    #[test]
    fn states_of_a_switchover() {
        let old = Some("node1");
        let want = Some("node2");
        assert!(matches!(
            assess(&cluster(Some("node1"), true, REPLICA), old, want, true),
            State::Pending(s) if s == "leader node1, node2 running replica, failover key set"
        ));
        assert!(matches!(
            assess(&cluster(None, true, REPLICA), old, want, true),
            State::Pending(_)
        ));
        assert!(matches!(
            assess(&cluster(Some("node2"), false, REPLICA), old, want, true),
            State::Pending(s) if s.starts_with("node2 holds the leader key")
        ));
        assert_eq!(
            assess(&cluster(Some("node2"), false, PRIMARY), old, want, true),
            State::Done {
                leader: "node2".into()
            }
        );
        assert!(matches!(
            assess(&cluster(Some("node1"), false, REPLICA), old, want, true),
            State::Failed(_)
        ));
        // After a timeout the request may never have arrived: no key is not a failure yet.
        assert!(matches!(
            assess(&cluster(Some("node1"), false, REPLICA), old, want, false),
            State::Pending(_)
        ));
        // A leaderless failover never "fails" on a missing key: the race may still be on.
        assert!(matches!(
            assess(&cluster(None, false, REPLICA), None, want, true),
            State::Pending(_)
        ));
    }
}
