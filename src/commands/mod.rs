//! The commands, one file per patronictl code path they share, and the helpers they have in common:
//! role filters (`get_all_members`), the member table every action prints first (`output_members`),
//! and the `-W`/`-w` watch loop.

pub mod check;
pub mod cluster_role;
pub mod context;
pub mod doctor;
pub mod dynamic_config;
pub mod events;
pub mod fanout;
pub mod history;
pub mod list;
pub mod members;
pub mod pause;

pub mod query;
pub mod remove;
pub mod rollout;
pub mod site;
pub mod switchover;
pub mod top;
pub mod version;
pub mod wait;

use std::time::{Duration, Instant};

use crate::context::Context;
use crate::model::{Cluster, Member};
use crate::output::members::{self as table, Format, MembersView};

/// patronictl's `CtlPostgresqlRole`: the `-r/--role` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// The holder of the leader key.
    Leader,
    /// The leader of a primary (non-standby) cluster.
    Primary,
    /// The leader of a standby cluster.
    #[value(name = "standby-leader")]
    StandbyLeader,
    /// Every member but the leader.
    Replica,
    /// Same as replica.
    Standby,
    /// Every member.
    Any,
}

impl Role {
    /// The value as typed on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Leader => "leader",
            Role::Primary => "primary",
            Role::StandbyLeader => "standby-leader",
            Role::Replica => "replica",
            Role::Standby => "standby",
            Role::Any => "any",
        }
    }
}

/// patronictl's `get_all_members`: members of the cluster (and, for Citus without `--group`, of every
/// worker group) that have `role`.
pub fn get_all_members(cluster: &Cluster, group: Option<i64>, role: Role) -> Vec<&Member> {
    let mut clusters: Vec<&Cluster> = vec![cluster];
    if group.is_none() {
        clusters.extend(cluster.workers.iter().map(|(_, c)| c));
    }
    let mut out = Vec::new();
    for c in clusters {
        let leader = c.leader_name();
        let leader_role = c.leader_member().and_then(|m| m.str_field("role"));
        match role {
            Role::Leader | Role::Primary | Role::StandbyLeader => {
                let Some(l) = leader else { continue };
                let ok = match role {
                    Role::Primary => leader_role != Some("standby_leader"),
                    Role::StandbyLeader => !matches!(leader_role, Some("primary" | "master")),
                    _ => true,
                };
                if ok {
                    match c.leader_member() {
                        Some(m) => out.push(m),
                        None => {
                            // A leader key without a member key: patronictl uses a stub member.
                            let _ = l;
                        }
                    }
                }
            }
            Role::Replica | Role::Standby => {
                out.extend(c.members.iter().filter(|m| Some(m.name.as_str()) != leader))
            }
            Role::Any => out.extend(c.members.iter()),
        }
    }
    out
}

/// Render the member table as patronictl's `output_members(cluster, name, fmt=pretty)`.
pub fn members_table(
    ctx: &Context,
    cluster: &Cluster,
    name: &str,
    group: Option<i64>,
    fmt: Format,
) -> String {
    table::render(
        cluster,
        &MembersView {
            name,
            extended: false,
            fmt,
            group,
            citus: ctx.is_citus(group),
            color: false,
        },
    )
}

/// Run a live view (`list`/`topology -W`, `query -w`, `events`) until it ends or Ctrl-C (SIGINT)
/// arrives, which ends it as it ends patronictl's watch (click's `KeyboardInterrupt`): a newline
/// and `Aborted!` on stderr, exit 1 ([`Error::interrupted`]). Not `live`: `work` as it is, and
/// Ctrl-C keeps its default action.
pub async fn live_view<T>(
    live: bool,
    work: impl std::future::Future<Output = crate::error::Result<T>>,
) -> crate::error::Result<T> {
    if !live {
        return work.await;
    }
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt()).map_err(|e| {
        crate::error::Error::failure(format!("cannot listen for signals: {e}")).with_source(e)
    })?;
    tokio::select! {
        r = work => r,
        _ = interrupt.recv() => Err(crate::error::Error::interrupted()),
    }
}

/// patronictl's `watching(w, watch)`: run once, or every `interval` seconds (2 with `-W`) until
/// interrupted, clearing the screen first when stdout is a terminal.
pub struct Watch {
    interval: Option<Duration>,
    started: Option<Instant>,
    clear: bool,
}

impl Watch {
    /// From `-W` and `-w X`.
    pub fn new(w: bool, watch: Option<f64>, clear: bool) -> Watch {
        let interval = watch
            .map(|s| Duration::from_secs_f64(s.max(0.0)))
            .or(w.then(|| Duration::from_secs(2)));
        Watch {
            interval,
            started: None,
            clear,
        }
    }

    /// Whether there will be another round (`-W`/`-w`).
    pub fn repeats(&self) -> bool {
        self.interval.is_some()
    }

    /// Wait for the next round; `false` when there is none (no watch and the first round ran, or
    /// nobody reads stdout any more).
    pub async fn next(&mut self, ctx: &Context<'_>) -> bool {
        if ctx.ui.stdout_closed() {
            return false;
        }
        match (self.started, self.interval) {
            (None, _) => {}
            (Some(_), None) => return false,
            (Some(start), Some(i)) => {
                // 4.x subtracts the time the round took from the sleep.
                let elapsed = start.elapsed();
                if elapsed < i {
                    tokio::time::sleep(i - elapsed).await;
                }
            }
        }
        self.started = Some(Instant::now());
        if self.interval.is_some() && self.clear && ctx.ui.is_tty() {
            ctx.ui.out_raw("\x1b[2J\x1b[1;1H");
        }
        true
    }
}
