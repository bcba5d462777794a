//! How one member's request ended (patronictl's `check_response` lines) and the exit code the
//! outcomes of several members add up to.

use crate::api::{Failure, FailureKind, Response};
use crate::error::{Error, Exit, Result};
use crate::output::Ui;

/// The lines one member's request printed, and how it ended.
pub(super) struct Report {
    pub(super) lines: Vec<String>,
    pub(super) verdict: Exit,
}

impl Report {
    pub(super) fn new(line: String, verdict: Exit) -> Report {
        Report {
            lines: vec![line],
            verdict,
        }
    }

    /// patronictl's line for a status it does not expect: `Failed: <action> for member <name>,
    /// status code=<status>, (<body>)`.
    pub(super) fn rejected(action: &str, member: &str, r: &Response) -> Report {
        Report::new(rejected_line(action, member, r), Exit::Failure)
    }
}

fn rejected_line(action: &str, member: &str, r: &Response) -> String {
    format!(
        "Failed: {action} for member {member}, status code={}, ({})",
        r.status, r.body
    )
}

/// The outcome of each member's request so far; [`Exit::combine`] makes them one exit code.
#[derive(Default)]
pub(super) struct Tally {
    outcomes: Vec<Exit>,
}

impl Tally {
    pub(super) fn add(&mut self, outcome: Exit) {
        self.outcomes.push(outcome);
    }

    pub(super) fn finish(self) -> Result<()> {
        match Exit::combine(self.outcomes) {
            Exit::Success => Ok(()),
            code => Err(Error::silent(code)),
        }
    }
}

/// The `Failed: …` line for a request that got no HTTP answer (patronictl prints a traceback).
pub(super) fn transport_report(action: &str, member: &str, f: &Failure) -> Report {
    let what = match f.kind {
        FailureKind::Connect => "unreachable ",
        FailureKind::Timeout => "outcome unknown ",
        FailureKind::NoUrl | FailureKind::Other => "",
    };
    Report::new(
        format!(
            "Failed: {action} for member {member}, {what}({})",
            f.message
        ),
        f.exit(),
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
        (Some(rejected_line(action, member, r)), false)
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
        let code = |vs: &[Exit]| {
            let mut t = Tally::default();
            vs.iter().for_each(|v| t.add(*v));
            t.finish().err().map(|e| e.exit)
        };
        assert_eq!(code(&[Exit::Success]), None);
        assert_eq!(
            code(&[Exit::Success, Exit::Unreachable]),
            Some(Exit::Unreachable)
        );
        assert_eq!(code(&[Exit::Unknown]), Some(Exit::Unknown));
        assert_eq!(
            code(&[Exit::Unknown, Exit::Unreachable]),
            Some(Exit::Failure)
        );
        assert_eq!(code(&[Exit::Failure]), Some(Exit::Failure));
    }
}
