//! How one member's request ended (patronictl's `check_response` lines, and the member's outcome
//! for machine output), the exit code the outcomes of several members add up to, and one member's
//! restart as it ended ([`Restarted`], which `restart --wait` follows).

use crate::api::{Api, Failure, FailureKind, Response, StatusHints};
use crate::error::{Error, Exit, Result};
use crate::output::machine::{member_outcome, Outcome};
use crate::output::Ui;
use serde_json::{Map, Value};

/// The lines one member's request printed, how it ended, and that member's outcome for machine
/// output (`None`: the report adds no member entry, e.g. a wait stage of a member already listed).
pub(super) struct Report {
    pub(super) lines: Vec<String>,
    pub(super) verdict: Exit,
    pub(super) outcome: Option<Value>,
    /// The hint of a request that got no answer (a TLS refusal names the certificate).
    pub(super) hint: Option<String>,
}

impl Report {
    pub(super) fn new(line: String, verdict: Exit) -> Report {
        Report {
            lines: vec![line],
            verdict,
            outcome: None,
            hint: None,
        }
    }

    /// patronictl's line for a status it does not expect: `Failed: <action> for member <name>,
    /// status code=<status>, (<body>)`.
    pub(super) fn rejected(action: &str, member: &str, r: &Response) -> Report {
        Report::new(rejected_line(action, member, r), Exit::Failure).answered(member, Some(r))
    }

    /// Record `member`'s outcome from this report's verdict and lines, with Patroni's answer when
    /// one came (`None`: nothing had to be sent).
    pub(super) fn answered(mut self, member: &str, r: Option<&Response>) -> Report {
        let message = (!self.lines.is_empty()).then(|| self.lines.join("\n"));
        self.outcome = Some(member_outcome(
            member,
            Outcome::of_exit(self.verdict),
            r.map(|r| r.status),
            r.map(|r| r.body.as_str()),
            message,
        ));
        self
    }
}

fn rejected_line(action: &str, member: &str, r: &Response) -> String {
    format!(
        "Failed: {action} for member {member}, status code={}, ({})",
        r.status, r.body
    )
}

/// The outcome of each member's request so far; [`Exit::combine`] makes them one exit code. The
/// members' outcome entries are kept for machine output.
/// The first refusal that needs a hint (401, 403, 412, 503) gives the error its hint.
#[derive(Default)]
pub(super) struct Tally {
    outcomes: Vec<Exit>,
    members: Vec<Value>,
    hints: StatusHints,
    hint: Option<String>,
}

impl Tally {
    /// A tally of requests sent by `api` (whose credentials a refusal's hint names).
    pub(super) fn new(api: &Api) -> Tally {
        Tally {
            hints: api.hints(),
            ..Tally::default()
        }
    }

    pub(super) fn add(&mut self, outcome: Exit) {
        self.outcomes.push(outcome);
    }

    /// Keep one member's outcome entry (see [`member_outcome`]).
    pub(super) fn add_member(&mut self, entry: Value) {
        if self.hint.is_none() && entry["outcome"] == "failed" {
            if let Some(status) = entry["httpStatus"].as_u64() {
                let body = match &entry["response"] {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                self.hint = self.hints.hint(status as u16, &body);
            }
        }
        self.members.push(entry);
    }

    /// The members' outcome entries so far.
    pub(super) fn members(&self) -> Value {
        Value::Array(self.members.clone())
    }

    pub(super) fn finish(self) -> Result<()> {
        match (Exit::combine(self.outcomes), self.hint) {
            (Exit::Success, _) => Ok(()),
            (code, Some(hint)) => Err(Error::silent(code).with_hint(hint)),
            (code, None) => Err(Error::silent(code)),
        }
    }

    /// Finish, and report `data` with `members` (each member's outcome) added as the command's
    /// machine output (the partial result beside the error when a member failed).
    pub(super) fn conclude(self, ui: &Ui, mut data: Map<String, Value>) -> Result<()> {
        data.insert("members".into(), self.members());
        ui.emit_result(self.finish(), Value::Object(data))
    }
}

/// What a member action was asked to do, the start of its machine output: `{action, cluster,
/// group, targets}` (the members selected, in order).
pub(super) fn asked(
    action: &str,
    cluster: &str,
    group: Option<i64>,
    targets: &[&crate::model::Member],
) -> Map<String, Value> {
    let mut data = Map::new();
    data.insert("action".into(), action.into());
    data.insert("cluster".into(), cluster.into());
    data.insert("group".into(), group.into());
    let names: Vec<Value> = targets.iter().map(|m| m.name.clone().into()).collect();
    data.insert("targets".into(), names.into());
    data
}

/// The `Failed: …` line for a request that got no HTTP answer (patronictl prints a traceback).
pub(super) fn transport_report(action: &str, member: &str, f: &Failure) -> Report {
    let what = match f.kind {
        FailureKind::Connect => "unreachable ",
        FailureKind::Timeout => "outcome unknown ",
        FailureKind::NoUrl | FailureKind::Other => "",
    };
    let mut report = Report::new(
        format!(
            "Failed: {action} for member {member}, {what}({})",
            f.message
        ),
        f.exit(),
    );
    report.outcome = Some(failure_outcome(member, f));
    report.hint = f.hint.clone();
    report
}

/// A member's outcome when its request got no HTTP answer, by the same rule as the exit code
/// ([`Failure::exit`]): unknown when no answer came in time (it may have been applied), else failed.
pub(super) fn failure_outcome(member: &str, f: &Failure) -> Value {
    let outcome = Outcome::of_exit(f.exit());
    member_outcome(member, outcome, None, None, Some(f.message.clone()))
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

/// Print each report's lines and add its verdict (and member outcome) to the tally.
pub(super) fn emit(ui: &Ui, tally: &mut Tally, report: Report) {
    for l in &report.lines {
        ui.line(l);
    }
    tally.add(report.verdict);
    if tally.hint.is_none() {
        tally.hint = report.hint;
    }
    if let Some(o) = report.outcome {
        tally.add_member(o);
    }
}

/// One member's restart as it ended: the lines, verdict and outcome, and the postmaster start time
/// before (for `--wait`).
pub(super) struct Restarted {
    pub(super) name: String,
    pub(super) report: Report,
    pub(super) outcome: Exit,
    pub(super) started_before: Option<String>,
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
