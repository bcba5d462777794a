//! `events [CLUSTER] [--all]`: what changes in a cluster, as it happens, from the DCS watch (patctl's
//! own; patronictl has only `list -W`, which polls).
//!
//! The stream ([`crate::dcs::Dcs::open_stream`]) gives the cluster at each DCS revision; [`diff`]
//! turns two successive states into typed events. On a terminal each event is one readable line;
//! otherwise (or with `-o json`) one `Event` envelope per line (`schemas/Event.schema.json`). Every
//! event carries the DCS revision it happened at, and `--since-revision` starts just after one, so a
//! script that stops and starts again neither loses nor repeats an event (etcd v3 keeps that history).
//! A broken connection is said in the stream (`dcs-disconnected`, `dcs-reconnected`) and the watch
//! resumes from the last revision seen.

pub mod diff;

use std::collections::BTreeMap;
use std::time::Duration;

use clap::Args;
use tokio::time::Instant;

use crate::context::Context;
use crate::dcs::Update;
use crate::error::{Error, Exit, Result};
use crate::model::Cluster;
use crate::output::Ui;

pub use diff::{Event, EventType};

/// `events [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Every cluster in the namespace
    #[arg(long, conflicts_with = "cluster_name")]
    pub all: bool,
    /// Start just after this DCS revision (the `revision` of the last event seen): no event lost or
    /// repeated (etcd v3 only)
    #[arg(long = "since-revision", value_name = "REVISION", value_parser = clap::value_parser!(i64).range(0..))]
    pub since_revision: Option<i64>,
    /// Stop after the first event of this type (repeat for any of several)
    #[arg(long, value_enum, value_name = "TYPE")]
    pub until: Vec<EventType>,
    /// Stop after this many cluster events
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Stop after this many seconds; with --until or --count not yet met, exit 1
    #[arg(long = "wait-timeout", value_name = "SECONDS", value_parser = crate::time::wait_seconds)]
    pub wait_timeout: Option<Duration>,
}

/// How long one wait for changes lasts before the loop looks at its deadline and stdout again.
const TICK: Duration = Duration::from_secs(1);

/// Where events go, and when the stream is done.
pub struct Sink<'u> {
    ui: &'u Ui,
    human: bool,
    until: Vec<EventType>,
    count: Option<u64>,
    seen: u64,
    done: bool,
}

impl<'u> Sink<'u> {
    fn new(ui: &'u Ui, args: &EventsArgs) -> Sink<'u> {
        Sink {
            ui,
            human: ui.is_tty() && ui.machine().is_none(),
            until: args.until.clone(),
            count: args.count,
            seen: 0,
            done: false,
        }
    }

    /// Print one event; notices about the DCS connection end the stream only through `--until`,
    /// `--count` counts changes of the clusters.
    fn emit(&mut self, e: &Event) {
        if self.done {
            return;
        }
        let now = chrono::Local::now();
        if self.human {
            let rev = e.revision.map(|r| format!(" @{r}")).unwrap_or_default();
            self.ui.line(&format!(
                "{}{rev} {}",
                now.format("%H:%M:%S%.3f"),
                e.describe()
            ));
        } else {
            self.ui.stream("Event", "events", e.to_json());
        }
        let notice = matches!(
            e.kind,
            EventType::DcsDisconnected | EventType::DcsReconnected | EventType::Resync
        );
        if !notice {
            self.seen += 1;
        }
        if self.until.contains(&e.kind) || self.count.is_some_and(|c| self.seen >= c) {
            self.done = true;
        }
    }

    /// Emit the events between two states of every cluster that changed.
    fn changes(
        &mut self,
        state: &mut BTreeMap<String, Cluster>,
        revision: Option<i64>,
        clusters: BTreeMap<String, Option<Cluster>>,
    ) {
        for (scope, new) in clusters {
            for e in diff::diff(&scope, revision, state.get(&scope), new.as_ref()) {
                self.emit(&e);
            }
            match new {
                Some(c) => state.insert(scope, c),
                None => state.remove(&scope),
            };
        }
    }
}

/// Run `events`.
pub async fn cmd_events(ctx: &mut Context<'_>, args: EventsArgs) -> Result<()> {
    let scope = if args.all {
        None
    } else {
        Some(ctx.cluster_name(args.cluster_name.clone())?)
    };
    let ui = ctx.ui;
    ui.begin_stream();
    let deadline = args.wait_timeout.map(|d| Instant::now() + d);
    let mut sink = Sink::new(ui, &args);
    let dcs = ctx.dcs().await?;
    let (mut stream, mut state) = dcs
        .open_stream(scope.as_deref(), args.since_revision)
        .await?;
    // On stderr in every mode: the stream is open from here on, so a script (or a test) can wait for
    // this line before it makes the change it wants to see.
    {
        let what = scope
            .as_deref()
            .map_or_else(|| "every cluster".to_string(), |s| format!("cluster {s}"));
        let rev = stream
            .revision()
            .map(|r| format!(" after revision {r}"))
            .unwrap_or_default();
        ui.err_line(&format!(
            "Watching {what}{rev} on {} (Ctrl-C to stop)",
            dcs.describe()
        ));
    }
    let mut disconnected = false;
    while !sink.done && !ui.stdout_closed() {
        let wait = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return timed_out(&args, &sink);
                }
                left.min(TICK)
            }
            None => TICK,
        };
        match dcs.next_updates(&mut stream, wait).await {
            Ok(updates) => {
                if std::mem::take(&mut disconnected) {
                    let mut e = Event::new(EventType::DcsReconnected, "", stream.revision());
                    e.detail = Some(dcs.describe());
                    sink.emit(&e);
                }
                for u in updates {
                    match u {
                        Update::Changed { revision, clusters } => {
                            sink.changes(&mut state, revision, clusters)
                        }
                        Update::Resynced { revision, clusters } => {
                            sink.emit(&Event::new(EventType::Resync, "", revision));
                            sink.changes(&mut state, revision, clusters);
                        }
                        Update::Reconnected(to) => {
                            let mut e =
                                Event::new(EventType::DcsReconnected, "", stream.revision());
                            e.detail = Some(to);
                            sink.emit(&e);
                        }
                    }
                }
            }
            Err(e) if e.exit == Exit::Unreachable => {
                if !disconnected {
                    disconnected = true;
                    let mut ev = Event::new(EventType::DcsDisconnected, "", stream.revision());
                    ev.detail = Some(e.message.clone());
                    sink.emit(&ev);
                }
                // Try again shortly, from the same revision.
                tokio::time::sleep(wait.min(Duration::from_millis(500))).await;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The end of `--wait-timeout`: fine for a plain stream, a failure when `--until`/`--count` wanted more.
fn timed_out(args: &EventsArgs, sink: &Sink) -> Result<()> {
    let secs = args.wait_timeout.unwrap_or_default().as_secs_f64();
    if !args.until.is_empty() {
        let names: Vec<&str> = args.until.iter().map(|t| t.as_str()).collect();
        return Err(Error::failure(format!(
            "no {} event within {secs}s",
            names.join(" or ")
        )));
    }
    if let Some(c) = args.count {
        return Err(Error::failure(format!(
            "{} of {c} events within {secs}s",
            sink.seen
        )));
    }
    Ok(())
}
