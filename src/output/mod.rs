//! The output layer: the only code that writes to the terminal or reads answers from it.
//!
//! Renderers (`members`, `table`, `diff`) are pure and return text (JSON and YAML come from [`crate::py`]). [`Ui`] writes that text,
//! prints errors as patronictl does (`Error: …` on stderr), and asks questions the way click does
//! ([`prompt`]): prompts on stdout, whole lines read from stdin (a terminal in its line mode, or a
//! pipe), Ctrl-C and end of input abort. A [`Ui::scripted`] Ui runs commands in-process for tests.

pub mod color;
pub mod diff;
pub mod machine;
pub mod members;
pub mod print;
mod prompt;
pub mod screen;
pub mod table;

use std::io::{IsTerminal, Write};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

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

/// Where the text goes and the answers come from: the process's own streams, or (for in-process
/// tests) a script of answers and two buffers.
enum Io {
    Std,
    Scripted(Mutex<Script>),
}

#[derive(Default)]
struct Script {
    input: std::collections::VecDeque<u8>,
    stdout: String,
    stderr: String,
}

/// Terminal state and the writers every command prints through.
pub struct Ui {
    stdout_tty: bool,
    stderr_tty: bool,
    color: bool,
    io: Io,
    stdout_closed: AtomicBool,
    /// Whether a stream of envelopes (one per line, `events`) went out.
    streaming: AtomicBool,
    /// Whether stdout text goes to stderr for now ([`Ui::divert_stdout`]).
    diverted: AtomicBool,
    machine: Option<MachineMode>,
}

/// `-o json|yaml`: the format, the command reported on, and what it collected for the envelope.
struct MachineMode {
    format: machine::Machine,
    command: String,
    warnings: Mutex<Vec<String>>,
    partial: Mutex<Option<serde_json::Value>>,
    emitted: AtomicBool,
    /// The kind a command chose over the one of its name (`switchover --dry-run`: `SwitchoverPlan`).
    kind: Mutex<Option<&'static str>>,
}

impl MachineMode {
    /// The kind chosen by the command, else the one of its name.
    fn kind(&self) -> &'static str {
        self.kind
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .unwrap_or_else(|| machine::kind_of(&self.command))
    }
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
            stderr_tty: std::io::stderr().is_terminal(),
            color,
            io: Io::Std,
            stdout_closed: AtomicBool::new(false),
            streaming: AtomicBool::new(false),
            diverted: AtomicBool::new(false),
            machine: None,
        }
    }

    /// A Ui for in-process tests: prompts read their answers from `stdin`, and what would be printed
    /// is kept for [`Ui::captured`]. No terminal, no colour.
    pub fn scripted(stdin: &str) -> Ui {
        Ui {
            stdout_tty: false,
            stderr_tty: false,
            color: false,
            io: Io::Scripted(Mutex::new(Script {
                input: stdin.bytes().collect(),
                ..Script::default()
            })),
            stdout_closed: AtomicBool::new(false),
            streaming: AtomicBool::new(false),
            diverted: AtomicBool::new(false),
            machine: None,
        }
    }

    /// What a [`Ui::scripted`] Ui printed so far: `(stdout, stderr)` (empty for a real terminal).
    pub fn captured(&self) -> (String, String) {
        match &self.io {
            Io::Std => (String::new(), String::new()),
            Io::Scripted(s) => {
                let s = s.lock().unwrap_or_else(|e| e.into_inner());
                (s.stdout.clone(), s.stderr.clone())
            }
        }
    }

    /// Switch to machine output (`-o json|yaml`) for `command`: from now on stdout carries only the
    /// envelope, human text goes to stderr, prompts fail, warnings are collected.
    pub fn with_machine(mut self, format: Option<machine::Machine>, command: &str) -> Ui {
        if format.is_some() {
            self.stdout_tty = false;
            self.color = false;
        }
        self.machine = format.map(|format| MachineMode {
            format,
            command: command.to_string(),
            warnings: Mutex::new(Vec::new()),
            partial: Mutex::new(None),
            emitted: AtomicBool::new(false),
            kind: Mutex::new(None),
        });
        self
    }

    /// The machine format, when `-o` was given.
    pub fn machine(&self) -> Option<machine::Machine> {
        self.machine.as_ref().map(|m| m.format)
    }

    /// Report under `kind` instead of the command's own (a command whose data changes shape with a
    /// flag, e.g. `switchover --dry-run` reports a `SwitchoverPlan`). A no-op outside machine mode.
    pub fn set_kind(&self, kind: &'static str) {
        if let Some(m) = &self.machine {
            *m.kind.lock().unwrap_or_else(|e| e.into_inner()) = Some(kind);
        }
    }

    /// Print the success envelope of the command with `data` (machine mode only; a no-op otherwise).
    pub fn emit(&self, data: serde_json::Value) {
        let Some(m) = &self.machine else { return };
        if m.emitted.swap(true, Ordering::Relaxed) {
            return;
        }
        let warnings = m.warnings.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let env = machine::success(m.kind(), &m.command, &warnings, data);
        self.write_stdout(&machine::render(&env, m.format));
    }

    /// One envelope of a stream (`events`): `kind` with `data` as one line of compact JSON (a YAML
    /// document with `-o yaml`) on stdout, whether or not `-o` was given (a stream is machine output
    /// whenever stdout is not a terminal). The command then sends no other success envelope; a
    /// failure still ends the stream with its error envelope, on one line too.
    pub fn stream(&self, kind: &str, command: &str, data: serde_json::Value) {
        self.streaming.store(true, Ordering::Relaxed);
        let warnings = match &self.machine {
            Some(m) => {
                m.emitted.store(true, Ordering::Relaxed);
                std::mem::take(&mut *m.warnings.lock().unwrap_or_else(|e| e.into_inner()))
            }
            None => Vec::new(),
        };
        let env = machine::success(kind, command, &warnings, data);
        self.write_stdout(&self.stream_text(&env));
    }

    /// Declare the command a stream before its first line: no success envelope is added at the end
    /// (a stream may end without a line), and a failure envelope is one line too.
    pub fn begin_stream(&self) {
        self.streaming.store(true, Ordering::Relaxed);
        if let Some(m) = &self.machine {
            m.emitted.store(true, Ordering::Relaxed);
        }
    }

    fn stream_text(&self, env: &serde_json::Value) -> String {
        match self.machine() {
            Some(machine::Machine::Yaml) => {
                format!("---\n{}", machine::render(env, machine::Machine::Yaml))
            }
            _ => format!(
                "{}\n",
                serde_json::to_string(env).unwrap_or_else(|_| "{}".into())
            ),
        }
    }

    /// What the command did so far, reported as `data` beside `error` if it then fails (e.g. each
    /// member's outcome, the wait stages reached).
    pub fn set_partial(&self, data: serde_json::Value) {
        if let Some(m) = &self.machine {
            *m.partial.lock().unwrap_or_else(|e| e.into_inner()) = Some(data);
        }
    }

    /// Report `data` as the command's result: the success envelope when `result` is `Ok`, else the
    /// partial `data` beside the error (machine mode only). Returns `result` for the caller to pass on.
    pub fn emit_result(&self, result: Result<()>, data: serde_json::Value) -> Result<()> {
        match &result {
            Ok(()) => self.emit(data),
            Err(_) => self.set_partial(data),
        }
        result
    }

    /// At the end of a command in machine mode: the failure envelope for `result`'s error, or an
    /// empty success envelope if the command emitted none.
    pub fn finish_machine(&self, result: &Result<()>) {
        let Some(m) = &self.machine else { return };
        match result {
            Ok(()) => self.emit(serde_json::json!({})),
            // Ctrl-C is how a stream (`events`) is stopped: it just ends, with no failure envelope.
            Err(e) if e.is_aborted() && self.streaming.load(Ordering::Relaxed) => {}
            Err(e) => {
                let streaming = self.streaming.load(Ordering::Relaxed);
                if m.emitted.swap(true, Ordering::Relaxed) && !streaming {
                    return;
                }
                let warnings = m.warnings.lock().unwrap_or_else(|e| e.into_inner()).clone();
                let partial = m.partial.lock().unwrap_or_else(|e| e.into_inner()).take();
                let env = machine::failure(m.kind(), &m.command, &warnings, e, partial);
                if streaming {
                    self.write_stdout(&self.stream_text(&env));
                } else {
                    self.write_stdout(&machine::render(&env, m.format));
                }
            }
        }
    }

    /// Send what a command would print on stdout to stderr instead, until turned off: a command run
    /// as one step of another (`rollout`'s switchover) reports there, the outer command owns stdout.
    pub fn divert_stdout(&self, on: bool) {
        self.diverted.store(on, Ordering::Relaxed);
    }

    /// Whether stdout is a terminal.
    pub fn is_tty(&self) -> bool {
        self.stdout_tty
    }

    /// Whether colour is on.
    pub fn color(&self) -> bool {
        self.color
    }

    /// Whether stdout was closed by its reader (`| head`): read-only commands may stop early, commands
    /// that change the cluster finish their work regardless.
    pub fn stdout_closed(&self) -> bool {
        self.stdout_closed.load(Ordering::Relaxed)
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

    /// Write a renderer's text: with `painted`, the renderer tidied every untrusted piece (member
    /// names, tags, network messages) with [`sanitize`] before adding its colour codes, and the text
    /// goes out as is (sanitizing it now would turn each ESC into `?`); else as [`Ui::out`].
    pub fn out_styled(&self, text: &str, painted: bool) {
        if painted {
            self.out_raw(text);
        } else {
            self.out(text);
        }
    }

    /// Write text that patctl styled itself (colour codes included) to stdout unchanged. A closed
    /// pipe is remembered and later text dropped: the command goes on and keeps its own exit code,
    /// so a `restart … | head -1` still restarts every member.
    pub fn out_raw(&self, text: &str) {
        if self.machine.is_some() || self.diverted.load(Ordering::Relaxed) {
            // stdout is the envelope's alone; the human text stays readable on stderr.
            self.err_raw(text);
            return;
        }
        self.write_stdout(text);
    }

    fn write_stdout(&self, text: &str) {
        if self.stdout_closed() {
            return;
        }
        let written = match &self.io {
            Io::Std => {
                let mut stdout = std::io::stdout().lock();
                stdout
                    .write_all(text.as_bytes())
                    .and_then(|_| stdout.flush())
            }
            Io::Scripted(s) => {
                s.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .stdout
                    .push_str(text);
                Ok(())
            }
        };
        if written.is_err() {
            self.stdout_closed.store(true, Ordering::Relaxed);
        }
    }

    /// Write one line to stdout.
    pub fn line(&self, text: &str) {
        self.out(&format!("{text}\n"));
    }

    /// Write text to stderr as is; a closed stderr is ignored.
    pub fn err_raw(&self, text: &str) {
        match &self.io {
            Io::Std => {
                let mut stderr = std::io::stderr().lock();
                let _ = stderr
                    .write_all(text.as_bytes())
                    .and_then(|_| stderr.flush());
            }
            Io::Scripted(s) => s
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .stderr
                .push_str(text),
        }
    }

    /// Write one line to stderr.
    pub fn err_line(&self, text: &str) {
        self.err_raw(&format!("{}\n", sanitize(text)));
    }

    /// Whether stderr is a terminal (progress is drawn as one updating line only then).
    pub fn err_is_tty(&self) -> bool {
        self.stderr_tty
    }

    /// Draw `text` as the one updating status line on stderr (a terminal): back to the start of
    /// the line, the text, clear the rest. End it with [`Ui::status_done`] before printing more.
    /// The text is cut to the terminal's width: a line that wrapped would leave its first rows
    /// behind at each redraw (`\r` only goes back to the start of the last row).
    pub fn status(&self, text: &str) {
        let text = sanitize(text);
        let text = match self.stderr_columns() {
            Some(columns) => fit_width(&text, columns),
            None => text,
        };
        self.err_raw(&format!("\r{text}\x1b[K"));
    }

    /// The width of the terminal on stderr, when it is one.
    fn stderr_columns(&self) -> Option<usize> {
        if !matches!(self.io, Io::Std) || !self.stderr_tty {
            return None;
        }
        // SAFETY: TIOCGWINSZ fills the winsize it is given and nothing else.
        let mut size: libc::winsize = unsafe { std::mem::zeroed() };
        let ok = unsafe { libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
        (ok && size.ws_col > 0).then_some(usize::from(size.ws_col))
    }

    /// Erase the status line drawn by [`Ui::status`].
    pub fn status_done(&self) {
        self.err_raw("\r\x1b[K");
    }

    /// A warning in patronictl's logging format.
    pub fn warning(&self, text: &str) {
        if let Some(m) = &self.machine {
            m.warnings
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(text.to_string());
        }
        self.err_line(&format!(
            "{} - WARNING - {text}",
            crate::time::log_timestamp()
        ));
    }

    /// Report a command's error: `Error: <message>` on stderr (or `Aborted!`), then its hint.
    pub fn report(&self, e: &Error) {
        if e.is_aborted() {
            self.err_line(&e.message);
        } else if !e.message.is_empty() {
            self.err_line(&format!("Error: {}", e.message));
        }
        if let Some(hint) = &e.hint {
            self.err_line(&format!("Hint: {hint}"));
        }
    }

    /// Machine output never asks: a command that would prompt fails with a usage error (exit 2).
    fn refuse_prompt_in_machine_mode(&self, text: &str) -> Result<()> {
        if self.machine.is_none() {
            return Ok(());
        }
        Err(Error::usage(format!(
            "the command would ask \"{}\", and machine output (-o) never prompts",
            text.trim_end_matches(['?', ' '])
        ))
        .with_hint("give every value on the command line (--force, member names, --candidate, --scheduled; remove: --confirm-cluster, --yes-i-am-aware, --confirm-leader)"))
    }

    /// One line of input (without its newline): a scripted answer, or a line read from stdin in the
    /// terminal's line mode. Ctrl-C and end of input abort, as click's `Abort`.
    fn read_answer(&self) -> Result<String> {
        match &self.io {
            Io::Std => {
                prompt::read_line(std::io::stdin().as_raw_fd()).map_err(|_| Error::aborted())
            }
            Io::Scripted(s) => {
                let mut s = s.lock().unwrap_or_else(|e| e.into_inner());
                if s.input.is_empty() {
                    return Err(Error::aborted());
                }
                let end = s.input.iter().position(|b| *b == b'\n');
                let taken: Vec<u8> = match end {
                    Some(i) => s.input.drain(..=i).take(i).collect(),
                    None => s.input.drain(..).collect(),
                };
                let text = String::from_utf8_lossy(&taken);
                Ok(text.trim_end_matches('\r').to_string())
            }
        }
    }

    /// click's `prompt(text, default=…)`: `text [default]: `; an empty answer gives the default, and
    /// without one the question is asked again.
    pub fn prompt(&self, text: &str, default: Option<&str>) -> Result<String> {
        self.refuse_prompt_in_machine_mode(text)?;
        let shown = match default {
            Some(d) => format!("{text} [{d}]: "),
            None => format!("{text}: "),
        };
        loop {
            self.out(&shown);
            let answer = self.read_answer()?;
            if !answer.is_empty() {
                return Ok(answer);
            }
            if let Some(d) = default {
                return Ok(d.to_string());
            }
        }
    }

    /// click's `confirm(text)`: `text [y/N]: `; `y`/`yes` or `n`/`no` (any case), empty means no.
    pub fn confirm(&self, text: &str) -> Result<bool> {
        self.refuse_prompt_in_machine_mode(text)?;
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

    /// click's `prompt(text, hide_input=True)`: Python's getpass, from the terminal with echo off, else
    /// from stdin after a warning on stderr. An empty answer asks again.
    pub fn password(&self, text: &str) -> Result<String> {
        self.refuse_prompt_in_machine_mode(text)?;
        let shown = format!("{text}: ");
        loop {
            let answer = match &self.io {
                Io::Std => prompt::getpass(&shown).map_err(|why| {
                    if why == prompt::NoLine::Interrupted {
                        // click ends the line getpass left open before `Aborted!`.
                        self.out("\n");
                    }
                    Error::aborted()
                })?,
                Io::Scripted(_) => {
                    self.err_raw(&format!("Warning: Password input may be echoed.\n{shown}"));
                    self.read_answer()?
                }
            };
            if !answer.is_empty() {
                return Ok(answer);
            }
        }
    }
}

/// `text` cut to fewer display columns than `columns` (wide characters count two), so that it
/// never reaches the last column, where a terminal may wrap.
pub fn fit_width(text: &str, columns: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let room = columns.saturating_sub(1);
    let mut used = 0;
    let mut out = String::new();
    for c in text.chars() {
        used += c.width().unwrap_or(0);
        if used > room {
            break;
        }
        out.push(c);
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_line_never_reaches_the_last_column() {
        assert_eq!(fit_width("abcdef", 4), "abc");
        assert_eq!(fit_width("日本語", 6), "日本");
        assert_eq!(fit_width("ab", 80), "ab");
        assert_eq!(fit_width("ab", 0), "");
    }
}
