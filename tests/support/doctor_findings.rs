//! The findings of `patctl doctor -o json`, as tuples the doctor tests compare.

#![allow(dead_code)]

use serde_json::Value;

use crate::process::Out;

/// The findings of a `doctor -o json` run: (status, area, target, check, message).
pub fn findings(out: &Out) -> Vec<(String, String, String, String, String)> {
    let v: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", out.stdout, out.stderr));
    assert_eq!(v["kind"], "DoctorReport", "{v}");
    v["data"]["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings: {v}"))
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (
                s("status"),
                s("area"),
                s("target"),
                s("check"),
                s("message"),
            )
        })
        .collect()
}

/// The one finding for `target`/`check`.
#[track_caller]
pub fn finding<'a>(
    all: &'a [(String, String, String, String, String)],
    target: &str,
    check: &str,
) -> &'a (String, String, String, String, String) {
    all.iter()
        .find(|f| f.2 == target && f.3 == check)
        .unwrap_or_else(|| panic!("no {target}/{check} finding in {all:#?}"))
}
