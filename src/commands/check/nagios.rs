//! The Nagios side of `patctl check`, as the `nagiosplugin` library that `check_patroni` 2.2 is built
//! on: threshold ranges (`Range`: `10`, `10:`, `~:10`, `10:20`, `@10:20`), metrics evaluated against a
//! warning and a critical range (`ScalarContext`), the summary (the check's own texts, else
//! `name is value` of the first result), performance data sorted as strings, and the status line
//! `NAME STATE - summary | perfdata` with its exit code (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
//! Everything here is pure: data in, text out.

use serde_json::{json, Value};

use crate::py::repr::float_repr;

/// A Nagios service state; the number is the plugin's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    /// 0
    Ok = 0,
    /// 1
    Warning = 1,
    /// 2
    Critical = 2,
    /// 3
    Unknown = 3,
}

impl State {
    /// nagiosplugin's lower-case name (`critical: …` lines of `-v`).
    pub fn lower(self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::Warning => "warning",
            State::Critical => "critical",
            State::Unknown => "unknown",
        }
    }

    /// The name on the status line.
    pub fn upper(self) -> &'static str {
        match self {
            State::Ok => "OK",
            State::Warning => "WARNING",
            State::Critical => "CRITICAL",
            State::Unknown => "UNKNOWN",
        }
    }

    /// The plugin's exit code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// A number as Python holds it: `int` or `float` (printed as Python prints them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    /// An `int`.
    Int(i64),
    /// A `float` (also the infinities of open range ends).
    Float(f64),
}

impl Num {
    fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }

    /// Python's `str()`.
    pub fn py_str(self) -> String {
        match self {
            Num::Int(i) => i.to_string(),
            Num::Float(f) => float_repr(f),
        }
    }

    /// A JSON number from Patroni, as `json.loads` makes it.
    pub fn from_json(v: &Value) -> Option<Num> {
        let n = v.as_number()?;
        n.as_i64()
            .map(Num::Int)
            .or_else(|| n.as_f64().map(Num::Float))
    }

    fn to_json(self) -> Value {
        match self {
            Num::Int(i) => json!(i),
            Num::Float(f) => json!(f),
        }
    }
}

/// A Nagios threshold range (nagiosplugin's `Range`): a value outside `start..=end` (inside, with
/// `@`) violates it. The empty range is `0:` (anything not negative).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    invert: bool,
    start: Num,
    end: Num,
}

impl Default for Range {
    fn default() -> Self {
        Range {
            invert: false,
            start: Num::Int(0),
            end: Num::Float(f64::INFINITY),
        }
    }
}

impl Range {
    /// Parse a range as nagiosplugin does; the error is Python's `ValueError` text.
    pub fn parse(spec: Option<&str>) -> Result<Range, String> {
        let mut spec = spec.unwrap_or("");
        let mut invert = false;
        if let Some(rest) = spec.strip_prefix('@') {
            invert = true;
            spec = rest;
        }
        let (start, end) = match spec.split_once(':') {
            Some((s, e)) if !e.contains(':') => (s, e),
            Some(_) => {
                return Err(format!(
                    "too many values to unpack (expected 2, got {})",
                    spec.split(':').count()
                ))
            }
            None => ("", spec),
        };
        let start = if start == "~" {
            Num::Float(f64::NEG_INFINITY)
        } else {
            atom(start, Num::Int(0))?
        };
        let end = atom(end, Num::Float(f64::INFINITY))?;
        if start.as_f64() > end.as_f64() {
            return Err(format!(
                "start {} must not be greater than end {}",
                start.py_str(),
                end.py_str()
            ));
        }
        Ok(Range { invert, start, end })
    }

    /// Whether `value` is within the range (nagiosplugin's `match`).
    pub fn matches(&self, value: Num) -> bool {
        let v = value.as_f64();
        let inside = v >= self.start.as_f64() && v <= self.end.as_f64();
        inside ^ self.invert
    }

    fn format(&self, omit_zero_start: bool) -> String {
        let mut out = String::new();
        if self.invert {
            out.push('@');
        }
        let start = self.start.as_f64();
        if start == f64::NEG_INFINITY {
            out.push_str("~:");
        } else if !omit_zero_start || start != 0.0 {
            out.push_str(&format!("{}:", self.start.py_str()));
        }
        if self.end.as_f64() != f64::INFINITY {
            out.push_str(&self.end.py_str());
        }
        out
    }

    /// As in performance data (`@0`, `2:`, empty for no threshold).
    pub fn perf(&self) -> String {
        self.format(true)
    }

    /// The hint of a violated range: `outside range 0:5`.
    pub fn violation(&self) -> String {
        format!("outside range {}", self.format(false))
    }
}

/// One bound of a range: an `int`, a `float` when it has a dot, else the default when empty.
fn atom(s: &str, default: Num) -> Result<Num, String> {
    if s.is_empty() {
        return Ok(default);
    }
    let t = s.trim();
    if s.contains('.') {
        t.parse::<f64>()
            .map(Num::Float)
            .map_err(|_| format!("could not convert string to float: '{s}'"))
    } else {
        t.parse::<i64>()
            .map(Num::Int)
            .map_err(|_| format!("invalid literal for int() with base 10: '{s}'"))
    }
}

/// A measured value and the thresholds it is judged by (a metric with its `ScalarContext`).
#[derive(Debug, Clone)]
pub struct Metric {
    /// The label (`healthy_replica`, `node2_lag`).
    pub name: String,
    /// The value.
    pub value: Num,
    /// The warning range.
    pub warning: Range,
    /// The critical range.
    pub critical: Range,
}

impl Metric {
    /// A metric without thresholds (performance data only; still `0:`, as nagiosplugin).
    pub fn plain(name: impl Into<String>, value: Num) -> Metric {
        Metric::with(name, value, Range::default(), Range::default())
    }

    /// A metric judged by `warning` and `critical`.
    pub fn with(name: impl Into<String>, value: Num, warning: Range, critical: Range) -> Metric {
        Metric {
            name: name.into(),
            value,
            warning,
            critical,
        }
    }

    /// The state and, for a violation, its hint (`ScalarContext.evaluate`).
    pub fn evaluate(&self) -> (State, Option<String>) {
        if !self.critical.matches(self.value) {
            (State::Critical, Some(self.critical.violation()))
        } else if !self.warning.matches(self.value) {
            (State::Warning, Some(self.warning.violation()))
        } else {
            (State::Ok, None)
        }
    }

    /// `name is value`, with ` (hint)` when there is one.
    fn describe(&self, hint: Option<&str>) -> String {
        let d = format!("{} is {}", self.name, self.value.py_str());
        match hint {
            Some(h) => format!("{d} ({h})"),
            None => d,
        }
    }

    /// The performance data item: `label=value;warn;crit`, empty trailing fields dropped.
    pub fn perfdata(&self) -> String {
        let label = if !self.name.is_empty()
            && self.name.chars().all(|c| c.is_alphanumeric() || c == '_')
        {
            self.name.clone()
        } else {
            format!("'{}'", self.name)
        };
        let mut fields = vec![
            format!("{label}={}", self.value.py_str()),
            self.warning.perf(),
            self.critical.perf(),
        ];
        while fields.last().is_some_and(String::is_empty) {
            fields.pop();
        }
        fields.join(";")
    }
}

/// What a check found, before rendering.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Metrics were measured (in the order the check yields them).
    Measured(Vec<Metric>),
    /// The endpoints could not be asked (nagiosplugin's `CheckError`): UNKNOWN with this text.
    Unknown(String),
    /// The check stopped on an error that check_patroni does not catch (an HTTP error status from a
    /// cluster endpoint, the overall timeout): `NAME UNKNOWN: <exception>: <message>`.
    Aborted(String),
    /// The check stopped before nagiosplugin's `Check` ran (a usage error raised by the check's
    /// function, a state file that cannot be opened): `UNKNOWN: <exception>: <message>`, no name.
    Early(String),
}

/// The check's own summary texts (`None`: nagiosplugin's default, the first result's description).
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// When the state is OK.
    pub ok: Option<String>,
    /// When it is not.
    pub problem: Option<String>,
}

/// One evaluated metric.
#[derive(Debug, Clone)]
pub struct Evaluated {
    /// The metric.
    pub metric: Metric,
    /// Its state.
    pub state: State,
    /// The violation, if any.
    pub hint: Option<String>,
}

/// A check's result, ready to print.
#[derive(Debug, Clone)]
pub struct Report {
    /// The status line name (`CLUSTERHASLEADER`).
    pub name: String,
    /// The overall state (the worst of the results).
    pub state: State,
    /// The summary text after `STATE - `.
    pub summary: String,
    /// Every metric with its state.
    pub results: Vec<Evaluated>,
    /// Performance data items, sorted.
    pub perfdata: Vec<String>,
    /// For an aborted check: the line after `NAME UNKNOWN: `.
    pub aborted: Option<String>,
}

/// Evaluate an outcome: the worst state wins, the summary is the check's or nagiosplugin's default.
pub fn evaluate(name: &str, outcome: Outcome, summary: &Summary) -> Report {
    let name = name.to_uppercase();
    match outcome {
        Outcome::Early(msg) => evaluate("", Outcome::Aborted(msg), summary),
        Outcome::Aborted(msg) => Report {
            name,
            state: State::Unknown,
            summary: String::new(),
            results: Vec::new(),
            perfdata: Vec::new(),
            aborted: Some(msg),
        },
        Outcome::Unknown(msg) => Report {
            name,
            state: State::Unknown,
            summary: msg,
            results: Vec::new(),
            perfdata: Vec::new(),
            aborted: None,
        },
        Outcome::Measured(metrics) => {
            let results: Vec<Evaluated> = metrics
                .into_iter()
                .map(|metric| {
                    let (state, hint) = metric.evaluate();
                    Evaluated {
                        metric,
                        state,
                        hint,
                    }
                })
                .collect();
            let state = results
                .iter()
                .map(|r| r.state)
                .max()
                .unwrap_or(State::Unknown);
            let default = |r: Option<&Evaluated>| {
                r.map(|r| r.metric.describe(r.hint.as_deref()))
                    .unwrap_or_else(|| "no check results".into())
            };
            let summary = if results.is_empty() {
                "no check results".to_string()
            } else if state == State::Ok {
                summary
                    .ok
                    .clone()
                    .unwrap_or_else(|| default(results.first()))
            } else {
                summary
                    .problem
                    .clone()
                    .unwrap_or_else(|| default(results.iter().find(|r| r.state == state)))
            };
            let mut perfdata: Vec<String> = results.iter().map(|r| r.metric.perfdata()).collect();
            perfdata.sort();
            Report {
                name,
                state,
                summary,
                results,
                perfdata,
                aborted: None,
            }
        }
    }
}

/// The plugin output (with its final newline). Without `-v`: one status line with the performance
/// data after `| `; with `-v`: the status line, one `state: description` line per result that is
/// not OK (worst first), then `| perfdata` on a line of its own.
pub fn render(report: &Report, verbose: u8) -> String {
    if let Some(msg) = &report.aborted {
        // An error before the check started (a bad threshold) has no name, as in nagiosplugin.
        let name = if report.name.is_empty() {
            String::new()
        } else {
            format!("{} ", report.name)
        };
        return format!("{name}UNKNOWN: {}\n", screen(msg));
    }
    let summary = report.summary.trim();
    let mut status = format!("{} {}", report.name, report.state.upper());
    if !summary.is_empty() {
        status.push_str(" - ");
        status.push_str(summary);
    }
    let mut status = screen(&status);
    let perf = if report.perfdata.is_empty() {
        String::new()
    } else {
        format!("| {}", screen(&report.perfdata.join(" ")))
    };
    if verbose == 0 {
        if !perf.is_empty() {
            status.push(' ');
            status.push_str(&perf);
        }
        return status + "\n";
    }
    let mut lines = vec![status];
    for state in [State::Unknown, State::Critical, State::Warning] {
        for r in report.results.iter().filter(|r| r.state == state) {
            lines.push(format!(
                "{}: {}",
                state.lower(),
                r.metric.describe(r.hint.as_deref())
            ));
        }
    }
    if !perf.is_empty() {
        lines.push(perf);
    }
    lines.join("\n") + "\n"
}

/// nagiosplugin removes `|` (the perfdata separator) from text.
fn screen(text: &str) -> String {
    text.trim_end_matches('\n').replace('|', "")
}

/// The report as `-o json` data: the check, state, exit code, status line and every metric.
pub fn to_json(check: &str, report: &Report, status_line: &str) -> Value {
    let metrics: Vec<Value> = report
        .results
        .iter()
        .map(|r| {
            json!({
                "name": r.metric.name,
                "value": r.metric.value.to_json(),
                "warning": none_if_empty(r.metric.warning.perf()),
                "critical": none_if_empty(r.metric.critical.perf()),
                "state": r.state.upper(),
            })
        })
        .collect();
    json!({
        "check": check,
        "state": report.state.upper(),
        "exitCode": report.state.code(),
        "summary": report.aborted.clone().unwrap_or_else(|| report.summary.clone()),
        "statusLine": status_line.lines().next().unwrap_or(""),
        "metrics": metrics,
        "perfdata": report.perfdata,
    })
}

fn none_if_empty(s: String) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::String(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Range {
        Range::parse(Some(s)).unwrap()
    }

    #[test]
    fn ranges_parse_match_and_print_as_nagiosplugin() {
        assert_eq!(r("@0:0").perf(), "@0");
        assert_eq!(r("@0:0").violation(), "outside range @0:0");
        assert_eq!(r("@1:1").perf(), "@1:1");
        assert_eq!(r("0:0").perf(), "0");
        assert_eq!(r("3:").perf(), "3:");
        assert_eq!(r("5").violation(), "outside range 0:5");
        assert_eq!(r("~:2.5").perf(), "~:2.5");
        assert_eq!(r("2.0:").perf(), "2.0:");
        assert!(!r("@0:0").matches(Num::Int(0)) && r("@0:0").matches(Num::Int(1)));
        assert!(!r("3:").matches(Num::Int(2)) && r("3:").matches(Num::Int(3)));
        assert!(!Range::default().matches(Num::Int(-1)));
        assert!(Range::parse(Some("x")).is_err());
        assert!(Range::parse(Some("5:1")).is_err());
    }

    #[test]
    fn status_lines_are_nagiosplugins() {
        let m = vec![
            Metric::with("healthy_replica", Num::Int(2), r("4:"), r("3:")),
            Metric::plain("node2_lag", Num::Int(0)),
            Metric::plain("unhealthy_replica", Num::Int(0)),
        ];
        let rep = evaluate(
            "ClusterHasReplica",
            Outcome::Measured(m),
            &Summary::default(),
        );
        assert_eq!(rep.state, State::Critical);
        assert_eq!(
            render(&rep, 0),
            "CLUSTERHASREPLICA CRITICAL - healthy_replica is 2 (outside range 3:) | healthy_replica=2;4:;3: node2_lag=0 unhealthy_replica=0\n"
        );
        assert_eq!(
            render(&rep, 1),
            "CLUSTERHASREPLICA CRITICAL - healthy_replica is 2 (outside range 3:)\ncritical: healthy_replica is 2 (outside range 3:)\n| healthy_replica=2;4:;3: node2_lag=0 unhealthy_replica=0\n"
        );
        let unk = evaluate(
            "ClusterHasLeader",
            Outcome::Unknown("Connection failed for all provided endpoints".into()),
            &Summary::default(),
        );
        assert_eq!(
            render(&unk, 0),
            "CLUSTERHASLEADER UNKNOWN - Connection failed for all provided endpoints\n"
        );
        assert_eq!(unk.state.code(), 3);
        assert_eq!(
            Metric::plain("pg-1_lag", Num::Int(5)).perfdata(),
            "'pg-1_lag'=5"
        );
    }
}
