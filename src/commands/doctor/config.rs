//! The configuration checks of `doctor`, on the dynamic configuration in the DCS, as Patroni's
//! `Config._validate_and_adjust_timeouts` judges it (patroni/config.py): `loop_wait` at least 1,
//! `retry_timeout` at least 3, `ttl` at least 20 (smaller values are raised, with a warning), and
//! `loop_wait + 2*retry_timeout <= ttl` (else Patroni lowers `loop_wait`, or when that is already 1,
//! `retry_timeout`, with a warning). A value that is not an integer makes Patroni's `int()` fail.
//! Missing values take Patroni's defaults (ttl 30, loop_wait 10, retry_timeout 10).
//! `maximum_lag_on_failover` should be set (Patroni's default, 1 MiB, then applies silently).

use serde_json::Value;

use super::{Area, Finding, Status};
use crate::model::ClusterConfig;

/// The findings for the cluster's dynamic configuration (`None`: no `config` key).
pub fn check(config: Option<&ClusterConfig>, cluster: &str) -> Vec<Finding> {
    let f = |st, check: &str, msg: String| Finding::new(st, Area::Config, cluster, check, msg);
    let Some(config) = config.filter(|c| c.valid) else {
        return vec![f(
            Status::Warn,
            "dynamic configuration",
            "no valid configuration in the DCS: Patroni's defaults apply".into(),
        )];
    };
    let data = &config.data;
    let mut out = Vec::new();
    let mut values = Vec::new();
    for (key, default, min) in [
        ("ttl", 30, 20),
        ("loop_wait", 10, 1),
        ("retry_timeout", 10, 3),
    ] {
        match int_value(data.get(key)) {
            Ok(None) => values.push((key, default)),
            Ok(Some(v)) if v < min => {
                out.push(f(
                    Status::Warn,
                    key,
                    format!("{key}={v} is below {min}: Patroni raises it to {min}"),
                ));
                values.push((key, min));
            }
            Ok(Some(v)) => values.push((key, v)),
            Err(raw) => out.push(f(
                Status::Fail,
                key,
                format!("{key}={raw} is not an integer: Patroni cannot apply the configuration"),
            )),
        }
    }
    if let [("ttl", ttl), ("loop_wait", loop_wait), ("retry_timeout", retry)] = values[..] {
        let sum = loop_wait + 2 * retry;
        let rule = format!("loop_wait + 2*retry_timeout = {loop_wait} + 2*{retry} = {sum}");
        out.push(if sum <= ttl {
            f(Status::Pass, "timeouts", format!("{rule} <= ttl {ttl}"))
        } else if 1 + 2 * retry > ttl {
            f(
                Status::Warn,
                "timeouts",
                format!(
                    "{rule} > ttl {ttl}: Patroni runs with loop_wait=1 and retry_timeout={}",
                    (ttl - 1) / 2
                ),
            )
        } else {
            f(
                Status::Warn,
                "timeouts",
                format!(
                    "{rule} > ttl {ttl}: Patroni runs with loop_wait={}",
                    ttl - 2 * retry
                ),
            )
        });
    }
    out.push(match data.get("maximum_lag_on_failover") {
        None | Some(Value::Null) => f(
            Status::Warn,
            "maximum_lag_on_failover",
            "not set: Patroni's default of 1048576 bytes applies".into(),
        ),
        Some(v) => match int_value(Some(v)) {
            Ok(Some(n)) if n >= 0 => f(
                Status::Pass,
                "maximum_lag_on_failover",
                format!("{n} bytes"),
            ),
            _ => f(
                Status::Fail,
                "maximum_lag_on_failover",
                format!("{v} is not a number of bytes"),
            ),
        },
    });
    out
}

/// A value as Python's `int()` takes it: an integer, a float (truncated), or a string of digits.
/// `Err` holds the value as written when it is none of those.
fn int_value(v: Option<&Value>) -> std::result::Result<Option<i64>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f.trunc() as i64))
            .map(Some)
            .ok_or_else(|| n.to_string()),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| format!("'{s}'")),
        Some(Value::Bool(b)) => Ok(Some(i64::from(*b))),
        Some(other) => Err(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> ClusterConfig {
        let data = match serde_json::from_str(json).unwrap() {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        ClusterConfig {
            version: crate::dcs::Version::new(1),
            data,
            valid: true,
            raw: json.to_string(),
        }
    }

    fn lines(json: &str) -> Vec<(Status, String, String)> {
        check(Some(&config(json)), "demo")
            .into_iter()
            .map(|f| (f.status, f.check, f.message))
            .collect()
    }

    #[test]
    fn patroni_rule_and_minimums() {
        let ok = lines(
            r#"{"ttl":20,"loop_wait":2,"retry_timeout":5,"maximum_lag_on_failover":1048576}"#,
        );
        assert!(ok.iter().all(|(s, _, _)| *s == Status::Pass), "{ok:?}");
        assert_eq!(
            ok[0].2,
            "loop_wait + 2*retry_timeout = 2 + 2*5 = 12 <= ttl 20"
        );

        let bad = lines(r#"{"ttl":30,"loop_wait":15,"retry_timeout":10}"#);
        assert_eq!(
            bad[0],
            (
                Status::Warn,
                "timeouts".into(),
                "loop_wait + 2*retry_timeout = 15 + 2*10 = 35 > ttl 30: Patroni runs with loop_wait=10".into()
            )
        );
        assert_eq!(bad[1].0, Status::Warn);
        assert_eq!(bad[1].1, "maximum_lag_on_failover");

        let tight =
            lines(r#"{"ttl":20,"loop_wait":1,"retry_timeout":12,"maximum_lag_on_failover":"1"}"#);
        assert!(
            tight[0]
                .2
                .ends_with("Patroni runs with loop_wait=1 and retry_timeout=9"),
            "{tight:?}"
        );
        assert_eq!(tight[1].0, Status::Pass);

        let low = lines(r#"{"ttl":10,"loop_wait":0,"retry_timeout":"x"}"#);
        assert_eq!(low[0].2, "ttl=10 is below 20: Patroni raises it to 20");
        assert_eq!(low[1].2, "loop_wait=0 is below 1: Patroni raises it to 1");
        assert_eq!(low[2].0, Status::Fail);
        assert_eq!(low[3].1, "maximum_lag_on_failover");

        let defaults = lines("{}");
        assert_eq!(
            defaults[0].2,
            "loop_wait + 2*retry_timeout = 10 + 2*10 = 30 <= ttl 30"
        );
        let none = check(None, "demo");
        assert_eq!(none[0].status, Status::Warn);
    }
}
