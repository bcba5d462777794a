//! How one member's request ended (patronictl's `check_response` lines) and the exit code the
//! outcomes of several members add up to.

use crate::api::{Failure, FailureKind, Response};
use crate::error::{Error, Exit, Result};
use crate::output::Ui;

/// How one member's request ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    Done,
    Rejected,
    Unreachable,
    Unknown,
}

/// The lines one member's request printed, and how it ended.
pub(super) struct Report {
    pub(super) lines: Vec<String>,
    pub(super) verdict: Verdict,
}

impl Report {
    pub(super) fn new(line: String, verdict: Verdict) -> Report {
        Report {
            lines: vec![line],
            verdict,
        }
    }
}

/// Failure kinds seen so far; the exit code is the kind's code when there is one kind, else 1.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) rejected: bool,
    pub(super) unreachable: bool,
    pub(super) unknown: bool,
}

impl Tally {
    pub(super) fn add(&mut self, v: Verdict) {
        match v {
            Verdict::Done => {}
            Verdict::Rejected => self.rejected = true,
            Verdict::Unreachable => self.unreachable = true,
            Verdict::Unknown => self.unknown = true,
        }
    }

    pub(super) fn finish(self) -> Result<()> {
        match (self.rejected, self.unreachable, self.unknown) {
            (false, false, false) => Ok(()),
            (false, true, false) => Err(Error::silent(Exit::Unreachable)),
            (false, false, true) => Err(Error::silent(Exit::Unknown)),
            _ => Err(Error::silent(Exit::Failure)),
        }
    }
}

/// The `Failed: …` line for a request that got no HTTP answer (patronictl prints a traceback).
pub(super) fn transport_report(action: &str, member: &str, f: &Failure) -> Report {
    let (what, verdict) = match f.kind {
        FailureKind::Connect => ("unreachable ", Verdict::Unreachable),
        FailureKind::Timeout => ("outcome unknown ", Verdict::Unknown),
        FailureKind::NoUrl | FailureKind::Other => ("", Verdict::Rejected),
    };
    Report::new(
        format!(
            "Failed: {action} for member {member}, {what}({})",
            f.message
        ),
        verdict,
    )
}

/// patronictl's `check_response`: the line to print (none for a silent success) and whether the
/// status is below 400.
pub(super) fn check_response(
    r: &Response,
    member: &str,
    action: &str,
    silent: bool,
) -> (Option<String>, bool) {
    if r.status >= 400 {
        let line = format!(
            "Failed: {action} for member {member}, status code={}, ({})",
            r.status, r.body
        );
        (Some(line), false)
    } else {
        (
            (!silent).then(|| format!("Success: {action} for member {member}")),
            true,
        )
    }
}

/// Print each report's lines and add its verdict to the tally.
pub(super) fn emit(ui: &Ui, tally: &mut Tally, report: Report) {
    for l in &report.lines {
        ui.line(l);
    }
    tally.add(report.verdict);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_code_is_the_only_failure_kind() {
        let code = |vs: &[Verdict]| {
            let mut t = Tally::default();
            vs.iter().for_each(|v| t.add(*v));
            t.finish().err().map(|e| e.exit)
        };
        assert_eq!(code(&[Verdict::Done]), None);
        assert_eq!(
            code(&[Verdict::Done, Verdict::Unreachable]),
            Some(Exit::Unreachable)
        );
        assert_eq!(code(&[Verdict::Unknown]), Some(Exit::Unknown));
        assert_eq!(
            code(&[Verdict::Unknown, Verdict::Unreachable]),
            Some(Exit::Failure)
        );
        assert_eq!(code(&[Verdict::Rejected]), Some(Exit::Failure));
    }
}
