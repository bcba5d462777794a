//! `top [CLUSTER] [--all]`: a full-screen live view of a cluster (or of every cluster in the
//! namespace), driven by the DCS watch, not by polling (patctl's own; patronictl's nearest is
//! `list -W`, which re-reads every 2 s).
//!
//! Three parts: [`state`] (what is shown, updated by stream updates and keys), [`render`] (the
//! screen as a function of the state and the terminal size), and the loop here, which waits on
//! both the stream (a task of its own with its own DCS connection, so that a key never cancels a
//! watch half-way) and the keyboard. It only reads: no key changes the cluster. `q`, Ctrl-C, and the
//! signals TERM, HUP and INT end it with the terminal as it was.

pub mod render;
pub mod state;

use std::time::{Duration, Instant};

use clap::Args;
use crossterm::event::{
    Event as TermEvent, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers,
};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::context::Context;
use crate::dcs::Update;
use crate::error::{Error, Exit, Result};
use crate::output::screen::Screen;
use state::{After, Key, State};

/// `top [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct TopArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Every cluster in the namespace
    #[arg(long, conflicts_with = "cluster_name")]
    pub all: bool,
}

/// What the watching task tells the screen.
enum Msg {
    Updates(Vec<Update>),
    Down(String),
    Up,
    Fatal(Error),
}

/// A key press as `top` reads it (`None`: not one of its keys).
pub fn key_of(k: &KeyEvent) -> Option<Key> {
    if k.kind != KeyEventKind::Press {
        return None;
    }
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    Some(match k.code {
        KeyCode::Char('c') if ctrl => Key::Quit,
        KeyCode::Char('q') | KeyCode::Char('Q') => Key::Quit,
        KeyCode::Esc => Key::Escape,
        KeyCode::Up | KeyCode::Char('k') => Key::Up,
        KeyCode::Down | KeyCode::Char('j') => Key::Down,
        KeyCode::Home | KeyCode::Char('g') => Key::First,
        KeyCode::End | KeyCode::Char('G') => Key::Last,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Enter | KeyCode::Char('d') => Key::Details,
        _ => return None,
    })
}

/// Ctrl-C as a key (raw mode turns it into one instead of a SIGINT).
fn is_ctrl_c(k: &KeyEvent) -> bool {
    k.kind == KeyEventKind::Press
        && k.modifiers.contains(KeyModifiers::CONTROL)
        && k.code == KeyCode::Char('c')
}

/// Run `top`.
pub async fn cmd_top(ctx: &mut Context<'_>, args: TopArgs) -> Result<()> {
    if ctx.ui.machine().is_some() {
        return Err(Error::usage(
            "top is a terminal view and has no machine output: use 'events -o json' or 'list -o json'",
        ));
    }
    if !ctx.ui.is_tty() {
        return Err(Error::usage(
            "top needs a terminal (stdout is not one): use 'events' for a stream or 'list -W'",
        ));
    }
    let scope = if args.all {
        None
    } else {
        Some(ctx.cluster_name(args.cluster_name)?)
    };
    let mut dcs = ctx.take_dcs().await?;
    let (mut stream, clusters) = dcs.open_stream(scope.as_deref(), None).await?;
    let mut state = State::new(clusters, args.all, dcs.describe(), stream.revision());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let watcher = tokio::spawn(async move {
        let mut down = false;
        while !tx.is_closed() {
            let msg = match dcs.next_updates(&mut stream, Duration::from_secs(1)).await {
                Ok(ups) => {
                    if std::mem::take(&mut down) {
                        let _ = tx.send(Msg::Up);
                    }
                    if ups.is_empty() {
                        continue;
                    }
                    Msg::Updates(ups)
                }
                Err(e) if e.exit == Exit::Unreachable => {
                    down = true;
                    let _ = tx.send(Msg::Down(e.message));
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
                Err(e) => Msg::Fatal(e),
            };
            let fatal = matches!(msg, Msg::Fatal(_));
            if tx.send(msg).is_err() || fatal {
                break;
            }
        }
    });
    let result = run(&mut state, &mut rx).await;
    watcher.abort();
    result
}

/// The screen loop: draw, then wait for a stream update, a key or the next second (the age column).
/// `q` and Esc end it (exit 0), SIGTERM and SIGHUP too; Ctrl-C (the key in raw mode, or SIGINT)
/// ends it as it ends every live view, `Aborted!` and exit 1 ([`Error::interrupted`]). Each gives
/// the terminal back first (their default action would leave it in raw mode on the alternate screen).
async fn run(state: &mut State, rx: &mut mpsc::UnboundedReceiver<Msg>) -> Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let listen = |kind: SignalKind| {
        signal(kind)
            .map_err(|e| Error::failure(format!("cannot listen for signals: {e}")).with_source(e))
    };
    let mut term = listen(SignalKind::terminate())?;
    let mut hangup = listen(SignalKind::hangup())?;
    let mut interrupt = listen(SignalKind::interrupt())?;
    let mut screen = Screen::enter()?;
    let mut keys = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        screen.draw(|f| render::draw(f, state, Instant::now()))?;
        tokio::select! {
            msg = rx.recv() => match msg {
                Some(Msg::Updates(ups)) => ups.into_iter().for_each(|u| state.apply(u)),
                Some(Msg::Down(why)) => state.set_connected(Some(why)),
                Some(Msg::Up) => state.set_connected(None),
                Some(Msg::Fatal(e)) => return Err(e),
                None => return Ok(()),
            },
            ev = keys.next() => match ev {
                Some(Ok(TermEvent::Key(k))) => {
                    if is_ctrl_c(&k) {
                        return Err(Error::interrupted());
                    }
                    let page = usize::from(screen.height().saturating_sub(12)).max(1);
                    if let Some(key) = key_of(&k) {
                        if state.key(key, page) == After::Quit {
                            return Ok(());
                        }
                    }
                }
                Some(Ok(_)) => {} // a resize: the next draw uses the new size
                Some(Err(e)) => {
                    return Err(
                        Error::failure(format!("cannot read the terminal: {e}")).with_source(e)
                    )
                }
                None => return Ok(()),
            },
            _ = tick.tick() => {}
            _ = term.recv() => return Ok(()),
            _ = hangup.recv() => return Ok(()),
            _ = interrupt.recv() => return Err(Error::interrupted()),
        }
    }
}
