//! The one error type that reaches the command-line boundary, and the exit codes it maps to.
//!
//! patronictl (click) prints `Error: <message>` on stderr and exits 1 for every failure, and 2 for a usage
//! error. patctl keeps those two, and adds distinct codes where a runbook needs to tell cases apart: the
//! DCS or a member could not be reached, a compare-and-swap lost against a concurrent change, or the
//! outcome of a request is unknown (a timeout after the request went out).
//!
//! [`Error`] carries the one line to print, an optional hint (what to do next, printed on the line
//! after), the error it came from (its [`causes`] are walked here and nowhere else), and its kind,
//! which is the exit code ([`Exit`]); [`Exit::combine`] is the one rule for several outcomes
//! (one per member) adding up to one code.

use std::fmt;
use std::process::ExitCode;
use std::sync::Arc;

/// Every exit code patctl uses. The README's exit-code table is generated from the same list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The command did what was asked.
    Success = 0,
    /// A failure, a rejection by Patroni, or an abort at a prompt (patronictl's `Error: …`, exit 1).
    Failure = 1,
    /// A usage or configuration error: bad flags, malformed config file, bad `--dcs-url`.
    Usage = 2,
    /// The DCS or a Patroni REST API could not be reached within the timeout.
    Unreachable = 3,
    /// A compare-and-swap write lost against a concurrent change; nothing was written.
    Conflict = 4,
    /// A request went out but its outcome is unknown (timeout while waiting); check the cluster.
    Unknown = 5,
    /// `--wait`: the new leader did not run as primary on a new timeline within `--wait-timeout`.
    WaitLeader = 6,
    /// `--wait`: the former leader did not rejoin and stream from the new one within `--wait-timeout`.
    WaitRejoin = 7,
    /// `--wait`: a replica did not stream within the lag limit (or a restarted member did not come
    /// back) within `--wait-timeout`.
    WaitReplicas = 8,
    /// `list --all`/`topology --all`: a cluster shown is unhealthy.
    Unhealthy = 9,
    /// `site switchover` stopped after demoting the primary site and before promoting the standby
    /// site (no primary site now); the report says where both stand and how to go back or forward.
    SiteStopped = 10,
    /// `wait`: a condition was not met within `--wait-timeout`; `rollout`: a step did not complete or
    /// its gate was not met in time, and the rollout stopped (running it again continues).
    NotReached = 11,
}

impl Exit {
    /// All codes with a one-line meaning, in order (the README's table must list exactly these).
    pub const ALL: [(Exit, &'static str); 12] = [
        (Exit::Success, "success"),
        (
            Exit::Failure,
            "failure, rejection by Patroni, or aborted at a prompt",
        ),
        (Exit::Usage, "usage or configuration error"),
        (
            Exit::Unreachable,
            "DCS or member REST API unreachable (timeout, connection refused)",
        ),
        (
            Exit::Conflict,
            "concurrent change detected (compare-and-swap failed); nothing written",
        ),
        (
            Exit::Unknown,
            "outcome unknown (request sent, result not confirmed in time)",
        ),
        (
            Exit::WaitLeader,
            "--wait: the new leader was not running as primary on a new timeline in time",
        ),
        (
            Exit::WaitRejoin,
            "--wait: the former leader had not rejoined and streamed from the new leader in time",
        ),
        (
            Exit::WaitReplicas,
            "--wait: a replica was not streaming within the lag limit (or a restarted member not back) in time",
        ),
        (
            Exit::Unhealthy,
            "list/topology --all: a cluster shown is unhealthy",
        ),
        (
            Exit::SiteStopped,
            "site switchover stopped between demoting the primary site and promoting the standby site (no primary site); the report gives the commands to go back or forward",
        ),
        (
            Exit::NotReached,
            "wait: a condition not met in time; rollout: stopped at a step or gate not completed in time",
        ),
    ];

    /// The process exit code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The exit code of several outcomes (one per member): success when every one succeeded, the
    /// failures' code when they all agree, else 1.
    pub fn combine(outcomes: impl IntoIterator<Item = Exit>) -> Exit {
        let mut failed: Option<Exit> = None;
        for e in outcomes.into_iter().filter(|e| *e != Exit::Success) {
            failed = match failed {
                None => Some(e),
                Some(f) if f == e => Some(f),
                Some(_) => Some(Exit::Failure),
            };
        }
        failed.unwrap_or(Exit::Success)
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e.code())
    }
}

/// The error a command returns. `message` is printed as `Error: <message>` unless it is empty
/// (a failure that already printed its own explanation); an abort prints patronictl's `Aborted!`.
#[derive(Debug)]
pub struct Error {
    /// Which exit code this error maps to.
    pub exit: Exit,
    /// One line, naming the file, value, member or endpoint at fault.
    pub message: String,
    /// What to do next, printed after the message (`Hint: …`).
    pub hint: Option<String>,
    aborted: bool,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// patronictl's message when a prompt is abandoned (Ctrl-C, end of input).
pub const ABORTED: &str = "Aborted!";

impl Error {
    /// A failure or rejection (exit 1).
    pub fn failure(message: impl Into<String>) -> Self {
        Error::new(Exit::Failure, message.into())
    }
    /// A usage or configuration error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Error::new(Exit::Usage, message.into())
    }
    /// The DCS or a member could not be reached (exit 3).
    pub fn unreachable(message: impl Into<String>) -> Self {
        Error::new(Exit::Unreachable, message.into())
    }
    /// A concurrent change won a compare-and-swap (exit 4).
    pub fn conflict(message: impl Into<String>) -> Self {
        Error::new(Exit::Conflict, message.into())
    }
    /// The outcome of a request is unknown (exit 5).
    pub fn unknown(message: impl Into<String>) -> Self {
        Error::new(Exit::Unknown, message.into())
    }
    /// A cluster shown by `list`/`topology --all` is unhealthy (exit 9).
    pub fn unhealthy(message: impl Into<String>) -> Self {
        Error::new(Exit::Unhealthy, message.into())
    }
    /// An error with the given exit code (the `--wait` stages name theirs).
    pub fn with_exit(exit: Exit, message: impl Into<String>) -> Self {
        Error::new(exit, message.into())
    }
    /// patronictl's `Aborted!` (Ctrl-C or end of input at a prompt; exit 1).
    pub fn aborted() -> Self {
        Error {
            aborted: true,
            ..Error::new(Exit::Failure, ABORTED.to_string())
        }
    }

    /// Ctrl-C in a live view: click's answer to a `KeyboardInterrupt`, a newline then `Aborted!`
    /// on stderr, exit 1 (an abort, as at a prompt).
    pub fn interrupted() -> Self {
        Error {
            aborted: true,
            ..Error::new(Exit::Failure, format!("\n{ABORTED}"))
        }
    }

    /// Whether this is an abort at a prompt (printed as `Aborted!`, without `Error: `).
    pub fn is_aborted(&self) -> bool {
        self.aborted
    }

    /// Add what to do next.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Keep the error this one came from (its causes stay available to [`causes`]).
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// A new error (`exit`, `message`) that this one led to: this one becomes its source, and its
    /// hint, when it has one, is kept (e.g. a lost DCS read after a request went out: outcome unknown).
    pub fn wrap(mut self, exit: Exit, message: impl Into<String>) -> Self {
        let hint = self.hint.take();
        Error {
            hint,
            ..Error::new(exit, message.into()).with_source(self)
        }
    }

    fn new(exit: Exit, message: String) -> Self {
        Error {
            exit,
            message,
            hint: None,
            aborted: false,
            source: None,
        }
    }

    /// A failure whose explanation was already printed (e.g. `Failed: …` lines).
    pub fn silent(exit: Exit) -> Self {
        Error::new(exit, String::new())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// One link of an error chain as text, with the error below it: a failure worded for a person
/// ("Connection refused", "certificate verify failed: certificate has expired") that keeps the
/// library error it came from, so `-o json`'s `causes` can list the whole chain. Cheap to clone
/// (the error below is shared); compares and derefs as its text.
#[derive(Clone)]
pub struct Cause {
    text: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl Cause {
    /// A cause with nothing below it.
    pub fn new(text: impl Into<String>) -> Cause {
        Cause {
            text: text.into(),
            source: None,
        }
    }

    /// A cause worded `text`, coming from `source`.
    pub fn of(
        text: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Cause {
        Cause {
            text: text.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// The error below this one, to look for a known kind in the chain (`downcast_ref`).
    pub fn below(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.source.as_deref()
    }
}

impl std::ops::Deref for Cause {
    type Target = str;
    fn deref(&self) -> &str {
        &self.text
    }
}

impl PartialEq for Cause {
    fn eq(&self, other: &Cause) -> bool {
        self.text == other.text
    }
}

impl Eq for Cause {}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// The first error of kind `T` in `e`'s chain (e.g. a TLS refusal under an HTTP failure).
pub fn find<'e, T: std::error::Error + 'static>(
    e: &'e (dyn std::error::Error + 'static),
) -> Option<&'e T> {
    sources(e).find_map(|s| s.downcast_ref::<T>())
}

/// `e` and every error below it, outermost first.
pub fn sources<'e>(
    e: &'e (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'e (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e), |err| err.source())
}

/// The text of `e` and of every error below it, outermost first (empty texts left out).
pub fn causes(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    sources(e)
        .map(ToString::to_string)
        .filter(|t| !t.is_empty())
        .collect()
}

/// The innermost cause of `e`, the one that says what happened ("Connection refused",
/// "certificate verify failed"), without the `(os error N)` noise.
pub fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let last = causes(e).pop().unwrap_or_default();
    match last.find(" (os error") {
        Some(i) => last[..i].to_string(),
        None => last,
    }
}

/// The result type of every command.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_combine_into_one_code() {
        use Exit::*;
        assert_eq!(Exit::combine([]), Success);
        assert_eq!(Exit::combine([Success, Success]), Success);
        assert_eq!(
            Exit::combine([Success, Unreachable, Unreachable]),
            Unreachable
        );
        assert_eq!(Exit::combine([Unknown]), Unknown);
        assert_eq!(Exit::combine([Unknown, Unreachable]), Failure);
        assert_eq!(Exit::combine([Conflict, Success, Failure]), Failure);
    }

    #[test]
    fn causes_are_walked_once_here() {
        let io = std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused (os error 111)",
        );
        let e = Error::unreachable("DCS unreachable").with_source(io);
        assert_eq!(
            causes(&e),
            vec!["DCS unreachable", "Connection refused (os error 111)"]
        );
        assert_eq!(root_cause(&e), "Connection refused");
        assert!(Error::aborted().is_aborted() && !Error::failure("x").is_aborted());
    }

    #[test]
    fn a_cause_keeps_the_error_below_it_to_be_found() {
        #[derive(Debug)]
        struct Below;
        impl fmt::Display for Below {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("below")
            }
        }
        impl std::error::Error for Below {}
        let c = Cause::of("worded", Below);
        assert_eq!(&*c, "worded");
        assert_eq!(c, Cause::new("worded"), "compares as its text");
        let e = Error::failure("top").with_source(c.clone());
        assert_eq!(causes(&e), vec!["top", "worded", "below"]);
        assert!(find::<Below>(&e).is_some());
        assert!(c
            .below()
            .is_some_and(|b| b.downcast_ref::<Below>().is_some()));
        let w = Error::failure("inner")
            .with_hint("h")
            .wrap(Exit::Unknown, "outer");
        assert_eq!((w.exit, w.hint.as_deref()), (Exit::Unknown, Some("h")));
        assert_eq!(causes(&w), vec!["outer", "inner"]);
    }

    #[test]
    fn readme_exit_code_table_lists_exactly_these_codes() {
        let readme = include_str!("../README.md");
        let section = readme
            .split("## Exit codes")
            .nth(1)
            .expect("README has an exit-code section");
        let codes: Vec<u8> = section
            .lines()
            .take_while(|l| !l.starts_with("## "))
            .filter_map(|l| l.strip_prefix("| ")?.split(' ').next()?.parse().ok())
            .collect();
        let ours: Vec<u8> = Exit::ALL.iter().map(|(e, _)| e.code()).collect();
        assert_eq!(codes, ours);
    }
}
