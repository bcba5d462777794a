//! The `doctor` report as text (one aligned line per finding, then a summary line) and as the
//! `DoctorReport` data of machine output (`schemas/DoctorReport.schema.json`). Pure: data in, text out.

use serde_json::{json, Value};

use super::{Report, Status};
use crate::output::color::{paint, BAD, OK, WARN};
use crate::output::sanitize;

/// The report as text: `STATUS  AREA  TARGET  CHECK  MESSAGE` columns, then
/// `N PASS, N WARN, N FAIL, N SKIP in S s`. With `color`, the status words are coloured (and the
/// rest made safe for a terminal, since it carries what servers answered).
pub fn text(report: &Report, color: bool) -> String {
    let width =
        |get: fn(&super::Finding) -> usize| report.findings.iter().map(get).max().unwrap_or(0);
    let area_w = width(|f| f.area.as_str().len());
    let target_w = width(|f| f.target.chars().count());
    let check_w = width(|f| f.check.chars().count());
    let mut out = String::new();
    for f in &report.findings {
        let word = f.status.as_str();
        let word = match (color, f.status) {
            (true, Status::Pass) => paint(OK, word),
            (true, Status::Warn) => paint(WARN, word),
            (true, Status::Fail) => paint(BAD, word),
            _ => word.to_string(),
        };
        let (target, check, message) = if color {
            (
                sanitize(&f.target),
                sanitize(&f.check),
                sanitize(&f.message),
            )
        } else {
            (f.target.clone(), f.check.clone(), f.message.clone())
        };
        let line = format!(
            "{word}  {:<area_w$}  {target:<target_w$}  {check:<check_w$}  {message}",
            f.area.as_str()
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push_str(&format!(
        "{} PASS, {} WARN, {} FAIL, {} SKIP in {:.2} s\n",
        report.count(Status::Pass),
        report.count(Status::Warn),
        report.count(Status::Fail),
        report.count(Status::Skip),
        report.elapsed.as_secs_f64()
    ));
    out
}

/// The `DoctorReport` data: the cluster, the bound and the time taken, counts per status, and
/// every finding.
pub fn json(report: &Report) -> Value {
    json!({
        "cluster": report.cluster,
        "timeoutSeconds": report.timeout.as_secs_f64(),
        "elapsedSeconds": report.elapsed.as_secs_f64(),
        "summary": {
            "pass": report.count(Status::Pass),
            "warn": report.count(Status::Warn),
            "fail": report.count(Status::Fail),
            "skip": report.count(Status::Skip),
        },
        "findings": report.findings.iter().map(|f| json!({
            "status": f.status.as_str(),
            "area": f.area.as_str(),
            "target": f.target,
            "check": f.check,
            "message": f.message,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::{Area, Finding};
    use super::*;
    use std::time::Duration;

    fn report() -> Report {
        Report {
            cluster: Some("demo".into()),
            timeout: Duration::from_secs(5),
            elapsed: Duration::from_millis(120),
            findings: vec![
                Finding::new(
                    Status::Pass,
                    Area::Dcs,
                    "http://127.0.0.1:2379",
                    "reachable",
                    "answered in 2 ms",
                ),
                Finding::new(Status::Fail, Area::Rest, "node1", "certificate", "expired"),
                Finding::new(Status::Skip, Area::Rest, "node1", "tls", ""),
            ],
        }
    }

    #[test]
    fn aligned_lines_and_a_summary() {
        assert_eq!(
            text(&report(), false),
            "PASS  dcs   http://127.0.0.1:2379  reachable    answered in 2 ms\n\
             FAIL  rest  node1                  certificate  expired\n\
             SKIP  rest  node1                  tls\n\
             1 PASS, 0 WARN, 1 FAIL, 1 SKIP in 0.12 s\n"
        );
        assert!(text(&report(), true).starts_with("\x1b[32mPASS\x1b[0m  dcs"));
    }

    #[test]
    fn json_keys() {
        let v = json(&report());
        assert_eq!(v["summary"]["fail"], 1);
        assert_eq!(v["timeoutSeconds"], 5.0);
        assert_eq!(
            v["findings"][1],
            json!({"status": "FAIL", "area": "rest", "target": "node1", "check": "certificate", "message": "expired"})
        );
    }
}
