//! Timestamps as patronictl prints and parses them: `timestamp()` (local time, 5 or 0 fractional
//! digits), the logging prefix, and `parse_scheduled` for `--scheduled` (ISO 8601 and the common
//! unambiguous forms dateutil accepts; no timezone means the local one). Python's own renderings of a
//! datetime (`isoformat()`, `str()`) are in [`crate::py::datetime`]. Also the parsers of patctl's
//! timeouts in seconds (`--request-timeout`, every `--wait-timeout`), shared by the global options
//! and the commands.

use std::time::Duration;

use chrono::{DateTime, FixedOffset, Local, NaiveDate, NaiveDateTime, TimeZone};

use crate::error::{Error, Result};

/// A number of seconds greater than 0 and at most `max`, with a message that says what is allowed.
fn seconds_upto(s: &str, max: u32) -> std::result::Result<Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v <= f64::from(max) => Ok(Duration::from_secs_f64(v)),
        _ => Err(format!(
            "'{s}' is not a valid number of seconds: give a number greater than 0 and at most {max} (e.g. 5 or 0.5)"
        )),
    }
}

/// `--request-timeout`: up to an hour.
pub fn request_seconds(s: &str) -> std::result::Result<Duration, String> {
    seconds_upto(s, 3600)
}

/// Every `--wait-timeout`: up to a day.
pub fn wait_seconds(s: &str) -> std::result::Result<Duration, String> {
    seconds_upto(s, 86_400)
}

/// patronictl's `timestamp(precision)`: `%Y-%m-%d %H:%M:%S.%f` with the last `7 - precision` characters cut.
pub fn timestamp(precision: usize) -> String {
    let full = Local::now().format("%Y-%m-%d %H:%M:%S%.6f").to_string();
    let cut = 7usize.saturating_sub(precision).min(full.len());
    full[..full.len() - cut].to_string()
}

/// Python logging's `asctime`: `2024-01-01 10:00:00,123`.
pub fn log_timestamp() -> String {
    Local::now().format("%Y-%m-%d %H:%M:%S,%3f").to_string()
}

/// patronictl's `parse_scheduled`: `None`, empty or `now` mean immediately.
pub fn parse_scheduled(value: Option<&str>) -> Result<Option<DateTime<FixedOffset>>> {
    let Some(v) = value.map(str::trim) else {
        return Ok(None);
    };
    if v.is_empty() || v == "now" {
        return Ok(None);
    }
    parse_datetime(v).map(Some).ok_or_else(|| {
        Error::failure(format!(
            "Unable to parse scheduled timestamp ({v}). It should be in an unambiguous format (e.g. ISO 8601)"
        ))
    })
}

fn parse_datetime(v: &str) -> Option<DateTime<FixedOffset>> {
    let v = v.replace(' ', "T");
    let v = v
        .strip_suffix('Z')
        .map(|b| format!("{b}+00:00"))
        .unwrap_or(v);
    if let Ok(t) = DateTime::parse_from_rfc3339(&v) {
        return Some(t);
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(&v, fmt) {
            return Some(t);
        }
    }
    let naive = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&v, f).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.fixed_offset())
}

/// An example "now + 1 hour" for the schedule prompts, `YYYY-MM-DDTHH:MM`.
pub fn in_one_hour() -> String {
    (Local::now() + chrono::Duration::hours(1))
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::py::datetime::{isoformat, py_str};

    #[test]
    fn scheduled_forms() {
        assert_eq!(parse_scheduled(Some("now")).unwrap(), None);
        assert_eq!(parse_scheduled(None).unwrap(), None);
        let t = parse_scheduled(Some("2030-01-01T10:00:00+02:00"))
            .unwrap()
            .unwrap();
        assert_eq!(isoformat(&t), "2030-01-01T10:00:00+02:00");
        assert_eq!(py_str(&t), "2030-01-01 10:00:00+02:00");
        let t = parse_scheduled(Some("2030-01-01 10:00Z")).unwrap().unwrap();
        assert_eq!(isoformat(&t), "2030-01-01T10:00:00+00:00");
        assert!(parse_scheduled(Some("2030-01-01T10:00")).unwrap().is_some());
        let e = parse_scheduled(Some("tomorrow-ish")).unwrap_err();
        assert!(e
            .message
            .starts_with("Unable to parse scheduled timestamp (tomorrow-ish)"));
    }

    #[test]
    fn timestamp_precision() {
        assert_eq!(timestamp(6).len(), "2026-11-25 09:05:41.02278".len());
        assert_eq!(timestamp(0).len(), "2026-11-25 09:05:41".len());
    }
}
