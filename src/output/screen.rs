//! The full-screen terminal of `top` (patctl's own): raw mode, the alternate screen and a hidden
//! cursor while it runs, and the terminal put back exactly as it was when it ends, whether by `q`,
//! an error or a panic (a guard restores on drop, a panic hook before the panic message).

use std::io::{stdout, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use crossterm::cursor::{Hide, Show};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::CrosstermBackend;
use ratatui::{Frame, Terminal};

use crate::error::{Error, Result};

/// Whether the terminal is in `top`'s mode (so that the panic hook knows to restore it).
static ACTIVE: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();

/// The terminal while `top` owns it; dropping it gives the terminal back.
pub struct Screen {
    terminal: Terminal<CrosstermBackend<Stdout>>,
}

fn failed(what: &str, e: std::io::Error) -> Error {
    Error::failure(format!("cannot {what} the terminal: {e}")).with_source(e)
}

/// Leave raw mode and the alternate screen, show the cursor; only once per entry.
fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let _ = disable_raw_mode();
        let _ = execute!(stdout(), LeaveAlternateScreen, Show);
    }
}

impl Screen {
    /// Take the terminal over: raw mode, alternate screen, cursor hidden.
    pub fn enter() -> Result<Screen> {
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore();
                previous(info);
            }));
        });
        enable_raw_mode().map_err(|e| failed("set up", e))?;
        ACTIVE.store(true, Ordering::SeqCst);
        let screen = execute!(stdout(), EnterAlternateScreen, Hide)
            .and_then(|_| Terminal::new(CrosstermBackend::new(stdout())));
        match screen {
            Ok(terminal) => Ok(Screen { terminal }),
            Err(e) => {
                restore();
                Err(failed("set up", e))
            }
        }
    }

    /// Draw one frame (only what changed since the last one reaches the terminal); a resize is
    /// picked up here.
    pub fn draw(&mut self, render: impl FnOnce(&mut Frame)) -> Result<()> {
        self.terminal
            .draw(render)
            .map(|_| ())
            .map_err(|e| failed("draw on", e))
    }

    /// Rows of the terminal now.
    pub fn height(&self) -> u16 {
        self.terminal.size().map(|s| s.height).unwrap_or(24)
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore();
    }
}
