//! The output layer: the only code that writes to the terminal or reads answers from it.
//!
//! Renderers (`members`, `table`, `pyjson`, `pyyaml`) are pure and return text. [`Ui`] writes that text,
//! prints errors as patronictl does (`Error: …` on stderr), and asks questions the way click does:
//! prompts on stdout, answers read from stdin even when it is a pipe, end of input aborts.

pub mod color;
pub mod diff;
pub mod members;
pub mod pyjson;
pub mod pyrepr;
pub mod pyyaml;
pub mod table;

use std::io::{BufRead, IsTerminal, Write};

use crate::error::{Error, Result};

/// Whether to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    /// Always colour (also `CLICOLOR_FORCE=1`).
    Always,
    /// Never colour.
    Never,
}

/// Terminal state and the writers every command prints through.
pub struct Ui {
    stdout_tty: bool,
    stdin_tty: bool,
    color: bool,
}

impl Ui {
    /// Detect terminals and resolve the colour choice: `--color`, then `NO_COLOR`, then `CLICOLOR_FORCE`,
    /// then whether stdout is a terminal.
    pub fn new(choice: ColorChoice) -> Ui {
        let stdout_tty = std::io::stdout().is_terminal();
        let env_set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                !env_set("NO_COLOR")
                    && (std::env::var("CLICOLOR_FORCE").is_ok_and(|v| !v.is_empty() && v != "0")
                        || (stdout_tty
                            && std::env::var("TERM").map(|t| t != "dumb").unwrap_or(true)))
            }
        };
        Ui {
            stdout_tty,
            stdin_tty: std::io::stdin().is_terminal(),
            color,
        }
    }

    /// Whether stdout is a terminal.
    pub fn is_tty(&self) -> bool {
        self.stdout_tty
    }

    /// Whether colour is on.
    pub fn color(&self) -> bool {
        self.color
    }

    /// Write text to stdout as is (the text carries its own newlines). On a terminal, control
    /// characters that came from the DCS or a member are made visible instead of interpreted.
    pub fn out(&self, text: &str) {
        let text = if self.stdout_tty {
            sanitize(text)
        } else {
            text.to_string()
        };
        self.out_raw(&text);
    }

    /// Write text that patctl styled itself (colour codes included) to stdout unchanged.
    pub fn out_raw(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        if let Err(e) = stdout
            .write_all(text.as_bytes())
            .and_then(|_| stdout.flush())
        {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                // A closed pipe (`| head`) is not an error, as in ripgrep.
                std::process::exit(0);
            }
        }
    }

    /// Write one line to stdout.
    pub fn line(&self, text: &str) {
        self.out(&format!("{text}\n"));
    }

    /// Write one line to stderr.
    pub fn err_line(&self, text: &str) {
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "{}", sanitize(text));
    }

    /// Whether stderr is a terminal (progress is drawn as one updating line only then).
    pub fn err_is_tty(&self) -> bool {
        std::io::stderr().is_terminal()
    }

    /// Draw `text` as the one updating status line on stderr (a terminal): back to the start of
    /// the line, the text, clear the rest. End it with [`Ui::status_done`] before printing more.
    pub fn status(&self, text: &str) {
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "\r{}\x1b[K", sanitize(text));
        let _ = stderr.flush();
    }

    /// Erase the status line drawn by [`Ui::status`].
    pub fn status_done(&self) {
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "\r\x1b[K");
        let _ = stderr.flush();
    }

    /// A warning in patronictl's logging format.
    pub fn warning(&self, text: &str) {
        self.err_line(&format!(
            "{} - WARNING - {text}",
            crate::time::log_timestamp()
        ));
    }

    /// Report a command's error: `Error: <message>` on stderr (or `Aborted!`).
    pub fn report(&self, e: &Error) {
        if !e.message.is_empty() {
            if e.message == ABORTED {
                self.err_line(ABORTED);
            } else {
                self.err_line(&format!("Error: {}", e.message));
            }
        }
    }

    fn read_answer(&self) -> Result<String> {
        let mut line = String::new();
        match std::io::stdin().lock().read_line(&mut line) {
            // click (8.5) ends an unanswered prompt with no newline; `Aborted!` goes to stderr.
            Ok(0) | Err(_) => Err(aborted()),
            Ok(_) => Ok(line.trim_end_matches(['\n', '\r']).to_string()),
        }
    }

    /// click's `prompt(text, default=…)`: `text [default]: `; an empty answer gives the default.
    pub fn prompt(&self, text: &str, default: Option<&str>) -> Result<String> {
        loop {
            let shown = match default {
                Some(d) => format!("{text} [{d}]: "),
                None => format!("{text}: "),
            };
            if self.stdin_tty && self.stdout_tty {
                // dialoguer shows `text [default]: ` itself and leaves the answered line on screen.
                let mut input = dialoguer::Input::<String>::new()
                    .with_prompt(text.trim_end().to_string())
                    .allow_empty(true);
                if let Some(d) = default.filter(|d| !d.is_empty()) {
                    input = input.default(d.to_string()).show_default(true);
                }
                let answer = input.interact_text().map_err(|_| aborted())?;
                match (answer.is_empty(), default) {
                    (false, _) => return Ok(answer),
                    (true, Some(d)) => return Ok(d.to_string()),
                    (true, None) => continue,
                }
            }
            self.out(&shown);
            let answer = self.read_answer()?;
            if answer.is_empty() {
                match default {
                    Some(d) => return Ok(d.to_string()),
                    None => continue,
                }
            }
            return Ok(answer);
        }
    }

    /// click's `confirm(text)`: `text [y/N]: `; `y`/`yes` or `n`/`no` (any case), empty means no.
    pub fn confirm(&self, text: &str) -> Result<bool> {
        if self.stdin_tty && self.stdout_tty {
            return dialoguer::Confirm::new()
                .with_prompt(text)
                .default(false)
                .interact_opt()
                .map_err(|_| aborted())?
                .ok_or_else(aborted);
        }
        loop {
            self.out(&format!("{text} [y/N]: "));
            let answer = self.read_answer()?.to_lowercase();
            match answer.trim() {
                "y" | "yes" => return Ok(true),
                "n" | "no" | "" => return Ok(false),
                // click echoes this on stdout, between the prompts.
                _ => self.line("Error: invalid input"),
            }
        }
    }

    /// A password prompt with hidden input (a terminal is required, as in click).
    pub fn password(&self, text: &str) -> Result<String> {
        if !self.stdin_tty {
            self.out(&format!("{text}: \n"));
            return Err(aborted());
        }
        dialoguer::Password::new()
            .with_prompt(text)
            .allow_empty_password(true)
            .interact()
            .map_err(|_| aborted())
    }
}

/// The message of an abort; [`Ui::report`] prints it without the `Error: ` prefix.
pub const ABORTED: &str = "Aborted!";

/// patronictl's `Aborted!` (exit 1).
pub fn aborted() -> Error {
    Error::failure(ABORTED)
}

/// Replace terminal control characters (other than newline and tab) by `?`.
pub fn sanitize(text: &str) -> String {
    if !text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '?'
            } else {
                c
            }
        })
        .collect()
}
