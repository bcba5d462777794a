//! Shrinking a failing case to a minimal reproducer: greedily drop Citus groups, keys, members,
//! fields, list items and characters while the mismatch remains, within a budget of attempts.

use serde_json::Value;

use super::gen::Case;

/// Smaller variants of `v`: each object entry or array item left out, each one reduced in turn, a
/// string cut in half or (when short) missing one character.
fn reductions(v: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    match v {
        Value::Object(m) => {
            for k in m.keys() {
                let mut c = m.clone();
                c.shift_remove(k);
                out.push(Value::Object(c));
            }
            // A timestamp is kept whole: cut short it is no longer an ISO-8601 shape but one of
            // the many free forms dateutil reads, outside what is compared.
            for (k, x) in m
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "scheduled_at" | "schedule"))
            {
                for r in reductions(x) {
                    let mut c = m.clone();
                    c.insert(k.clone(), r);
                    out.push(Value::Object(c));
                }
            }
        }
        Value::Array(a) => {
            for i in 0..a.len() {
                let mut c = a.clone();
                c.remove(i);
                out.push(Value::Array(c));
            }
            for (i, x) in a.iter().enumerate() {
                for r in reductions(x) {
                    let mut c = a.clone();
                    c[i] = r;
                    out.push(Value::Array(c));
                }
            }
        }
        Value::String(s) => out.extend(shorter(s).into_iter().map(Value::String)),
        _ => {}
    }
    out
}

fn shorter(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    let mut out = Vec::new();
    if n > 1 {
        out.push(chars[..n / 2].iter().collect());
        out.push(chars[n / 2..].iter().collect());
    }
    if (2..=24).contains(&n) {
        for i in 0..n {
            let mut c = chars.clone();
            c.remove(i);
            out.push(c.into_iter().collect());
        }
    }
    out
}

/// Every one-step smaller case, biggest cuts first.
pub fn candidates(case: &Case) -> Vec<Case> {
    let mut out = Vec::new();
    if case.groups.len() > 1 {
        for i in 0..case.groups.len() {
            let mut c = case.clone();
            c.groups.remove(i);
            out.push(c);
        }
    }
    for (gi, (_, keys)) in case.groups.iter().enumerate() {
        for ki in 0..keys.len() {
            let mut c = case.clone();
            c.groups[gi].1.remove(ki);
            out.push(c);
        }
    }
    for (gi, (_, keys)) in case.groups.iter().enumerate() {
        for (ki, (k, v)) in keys.iter().enumerate() {
            if let Some(name) = k.strip_prefix("members/") {
                for n in shorter(name).into_iter().filter(|n| !n.is_empty()) {
                    let mut c = case.clone();
                    c.groups[gi].1[ki].0 = format!("members/{n}");
                    out.push(c);
                }
            }
            for r in reductions(v) {
                let mut c = case.clone();
                c.groups[gi].1[ki].1 = r;
                out.push(c);
            }
        }
    }
    out
}

/// The smallest case reached from `case` by steps that keep `fails` true, trying at most `budget`
/// candidates.
pub fn shrink(case: Case, budget: usize, mut fails: impl FnMut(&Case) -> bool) -> Case {
    let mut best = case;
    let mut tried = 0;
    'outer: while tried < budget {
        for c in candidates(&best) {
            if tried >= budget {
                break 'outer;
            }
            tried += 1;
            if fails(&c) {
                best = c;
                continue 'outer;
            }
        }
        break;
    }
    best
}
