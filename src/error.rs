//! The one error type that reaches the command-line boundary, and the exit codes it maps to.
//!
//! patronictl (click) prints `Error: <message>` on stderr and exits 1 for every failure, and 2 for a usage
//! error. patctl keeps those two, and adds distinct codes where a runbook needs to tell cases apart: the
//! DCS or a member could not be reached, a compare-and-swap lost against a concurrent change, or the
//! outcome of a request is unknown (a timeout after the request went out).

use std::fmt;
use std::process::ExitCode;

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
}

impl Exit {
    /// All codes with a one-line meaning, in order (the README's table must list exactly these).
    pub const ALL: [(Exit, &'static str); 6] = [
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
    ];

    /// The process exit code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e.code())
    }
}

/// The error a command returns. `message` is printed as `Error: <message>` unless it is empty
/// (a failure that already printed its own explanation).
#[derive(Debug)]
pub struct Error {
    /// Which exit code this error maps to.
    pub exit: Exit,
    /// One line, naming the file, value, member or endpoint at fault.
    pub message: String,
}

impl Error {
    /// A failure or rejection (exit 1).
    pub fn failure(message: impl Into<String>) -> Self {
        Error {
            exit: Exit::Failure,
            message: message.into(),
        }
    }
    /// A usage or configuration error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Error {
            exit: Exit::Usage,
            message: message.into(),
        }
    }
    /// The DCS or a member could not be reached (exit 3).
    pub fn unreachable(message: impl Into<String>) -> Self {
        Error {
            exit: Exit::Unreachable,
            message: message.into(),
        }
    }
    /// A concurrent change won a compare-and-swap (exit 4).
    pub fn conflict(message: impl Into<String>) -> Self {
        Error {
            exit: Exit::Conflict,
            message: message.into(),
        }
    }
    /// The outcome of a request is unknown (exit 5).
    pub fn unknown(message: impl Into<String>) -> Self {
        Error {
            exit: Exit::Unknown,
            message: message.into(),
        }
    }
    /// patronictl's `Aborted!` (Ctrl-C or end of input at a prompt).
    pub fn aborted() -> Self {
        Error {
            exit: Exit::Failure,
            message: String::new(),
        }
    }
    /// A failure whose explanation was already printed (e.g. `Failed: …` lines).
    pub fn silent(exit: Exit) -> Self {
        Error {
            exit,
            message: String::new(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The result type of every command.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

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
