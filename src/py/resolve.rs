//! PyYAML's YAML 1.1 implicit resolvers and the `SafeConstructor` for the scalars they find, in one
//! place: the emitter asks them whether a string must be quoted, the loader uses them to type a
//! plain scalar. The rules are those of `yaml/resolver.py` (PyYAML 6): `yes`/`no`/`on`/`off`/`true`/
//! `false` in three case forms, ints with `0b`/`0x`/leading-`0` octal/sexagesimal parts/underscores
//! (`0o17` is a string), floats that need a `.` (`1e3` is a string), `.inf`/`.nan`, `~`/`null`/empty,
//! timestamps, and the `<<` merge and `=` value keys.

use serde_json::{Number, Value};

/// Whether PyYAML's implicit resolvers (YAML 1.1) would read the plain string as something other
/// than a string: bool, int, float, null, timestamp, merge or value.
pub fn resolves_to_non_string(s: &str) -> bool {
    is_yaml11_bool(s)
        || is_yaml11_null(s)
        || is_yaml11_int(s)
        || is_yaml11_float(s)
        || is_yaml11_timestamp(s)
        || s == "<<"
        || s == "="
}

/// YAML 1.1 booleans as PyYAML resolves them.
pub fn is_yaml11_bool(s: &str) -> bool {
    matches!(
        s,
        "yes"
            | "Yes"
            | "YES"
            | "no"
            | "No"
            | "NO"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// YAML 1.1 null as PyYAML resolves it.
pub fn is_yaml11_null(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

fn strip_sign(s: &str) -> &str {
    s.strip_prefix(['-', '+']).unwrap_or(s)
}

fn all(s: &str, f: impl Fn(u8) -> bool) -> bool {
    !s.is_empty() && s.bytes().all(f)
}

/// `[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+` style sexagesimal tail check: every `:`-part is 1–2 digits ≤ 59.
fn sexagesimal_parts(parts: &[&str]) -> bool {
    !parts.is_empty()
        && parts.iter().all(|p| {
            (p.len() == 1 && p.as_bytes()[0].is_ascii_digit())
                || (p.len() == 2
                    && (b'0'..=b'5').contains(&p.as_bytes()[0])
                    && p.as_bytes()[1].is_ascii_digit())
        })
}

/// YAML 1.1 integers as PyYAML resolves them.
pub fn is_yaml11_int(s: &str) -> bool {
    let u = strip_sign(s);
    if let Some(b) = u.strip_prefix("0b") {
        return all(b, |c| c == b'0' || c == b'1' || c == b'_');
    }
    if let Some(x) = u.strip_prefix("0x") {
        return all(x, |c| c.is_ascii_hexdigit() || c == b'_');
    }
    if u == "0" {
        return true;
    }
    if let Some(o) = u.strip_prefix('0') {
        return all(o, |c| (b'0'..=b'7').contains(&c) || c == b'_');
    }
    let mut parts = u.split(':');
    let head = parts.next().unwrap_or("");
    let rest: Vec<&str> = parts.collect();
    let head_ok = !head.is_empty()
        && (b'1'..=b'9').contains(&head.as_bytes()[0])
        && head.bytes().all(|c| c.is_ascii_digit() || c == b'_');
    head_ok && (rest.is_empty() || sexagesimal_parts(&rest))
}

/// YAML 1.1 floats as PyYAML resolves them.
pub fn is_yaml11_float(s: &str) -> bool {
    if matches!(s, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let u = strip_sign(s);
    if matches!(u, ".inf" | ".Inf" | ".INF") {
        return true;
    }
    let exp_ok = |e: &str| -> bool {
        let e = match e.strip_prefix(['-', '+']) {
            Some(d) => d,
            None => return false,
        };
        all(e, |c| c.is_ascii_digit())
    };
    let split_exp = |t: &str| -> Option<(String, Option<String>)> {
        match t.find(['e', 'E']) {
            Some(i) => Some((t[..i].to_string(), Some(t[i + 1..].to_string()))),
            None => Some((t.to_string(), None)),
        }
    };
    // [-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?  and  \.[0-9_]+([eE][-+][0-9]+)? (the latter unsigned)
    if let Some((mant, exp)) = split_exp(u) {
        if exp.as_deref().is_none_or(exp_ok) {
            if let Some((int, frac)) = mant.split_once('.') {
                let frac_ok = frac.bytes().all(|c| c.is_ascii_digit() || c == b'_');
                if !int.is_empty()
                    && int.as_bytes()[0].is_ascii_digit()
                    && int.bytes().all(|c| c.is_ascii_digit() || c == b'_')
                    && frac_ok
                {
                    return true;
                }
                if int.is_empty() && u.len() == s.len() && !frac.is_empty() && frac_ok {
                    return true;
                }
            }
        }
    }
    // [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*
    if let Some((whole, frac)) = u.rsplit_once('.') {
        let mut parts = whole.split(':');
        let head = parts.next().unwrap_or("");
        let rest: Vec<&str> = parts.collect();
        if !head.is_empty()
            && head.as_bytes()[0].is_ascii_digit()
            && head.bytes().all(|c| c.is_ascii_digit() || c == b'_')
            && sexagesimal_parts(&rest)
            && frac.bytes().all(|c| c.is_ascii_digit() || c == b'_')
        {
            return true;
        }
    }
    false
}

/// YAML 1.1 timestamps as PyYAML resolves them.
pub fn is_yaml11_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .is_some_and(|x| x.iter().all(u8::is_ascii_digit))
    };
    // yyyy-mm-dd
    if b.len() == 10
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
    {
        return true;
    }
    // yyyy-m?m-d?d(T|t|[ \t]+)h?h:mm:ss(.frac)?([ \t]*(Z|[-+]h?h(:mm)?))?
    let mut i = 0;
    let take_digits = |i: &mut usize, min: usize, max: usize| -> bool {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - start < max {
            *i += 1;
        }
        *i - start >= min
    };
    let expect = |i: &mut usize, c: u8| -> bool {
        if b.get(*i) == Some(&c) {
            *i += 1;
            true
        } else {
            false
        }
    };
    let date_ok = take_digits(&mut i, 4, 4)
        && expect(&mut i, b'-')
        && take_digits(&mut i, 1, 2)
        && expect(&mut i, b'-')
        && take_digits(&mut i, 1, 2);
    if !date_ok {
        return false;
    }
    if matches!(b.get(i), Some(b'T' | b't')) {
        i += 1;
    } else {
        let start = i;
        while matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    if !(take_digits(&mut i, 1, 2)
        && expect(&mut i, b':')
        && take_digits(&mut i, 2, 2)
        && expect(&mut i, b':')
        && take_digits(&mut i, 2, 2))
    {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if i == b.len() {
        return true;
    }
    while matches!(b.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    match b.get(i) {
        Some(b'Z') => i + 1 == b.len(),
        Some(b'-' | b'+') => {
            i += 1;
            if !take_digits(&mut i, 1, 2) {
                return false;
            }
            if i == b.len() {
                return true;
            }
            expect(&mut i, b':') && take_digits(&mut i, 2, 2) && i == b.len()
        }
        _ => false,
    }
}
/// A plain scalar typed by PyYAML's implicit resolvers and built by its `SafeConstructor`. Infinities
/// and NaN have no JSON form and are refused; timestamps stay strings (PyYAML would build a `date`,
/// which patronictl then fails to serialise as JSON).
pub fn resolve_plain(s: &str) -> Result<Value, String> {
    if is_yaml11_null(s) {
        return Ok(Value::Null);
    }
    if is_yaml11_bool(s) {
        return Ok(Value::Bool(bool_value(s)));
    }
    if is_yaml11_float(s) {
        return float_value(s);
    }
    if is_yaml11_int(s) {
        return Ok(int_value(s));
    }
    Ok(Value::String(s.to_string()))
}

/// PyYAML's `construct_yaml_bool` (for a string the bool resolver matched).
pub fn bool_value(s: &str) -> bool {
    matches!(s.as_bytes().first(), Some(b'y' | b'Y' | b't' | b'T')) || s.eq_ignore_ascii_case("on")
}

/// PyYAML's `construct_yaml_int`; a value beyond 64 bits stays the string it was.
pub fn int_value(s: &str) -> Value {
    let v = s.replace('_', "");
    let (neg, u) = match v.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, v.strip_prefix('+').unwrap_or(&v)),
    };
    let parsed: Option<i128> = if u == "0" {
        Some(0)
    } else if let Some(b) = u.strip_prefix("0b") {
        i128::from_str_radix(b, 2).ok()
    } else if let Some(x) = u.strip_prefix("0x") {
        i128::from_str_radix(x, 16).ok()
    } else if u.starts_with('0') {
        i128::from_str_radix(u, 8).ok()
    } else if u.contains(':') {
        u.split(':').try_fold(0i128, |acc, p| {
            p.parse::<i128>()
                .ok()
                .and_then(|d| acc.checked_mul(60)?.checked_add(d))
        })
    } else {
        u.parse().ok()
    };
    let n = parsed.map(|n| if neg { -n } else { n });
    match n {
        Some(n) => i64::try_from(n)
            .map(Value::from)
            .or_else(|_| u64::try_from(n).map(Value::from))
            .unwrap_or_else(|_| Value::String(s.to_string())),
        None => Value::String(s.to_string()),
    }
}

/// PyYAML's `construct_yaml_float`; infinities and NaN have no JSON form, so they are refused.
pub fn float_value(s: &str) -> Result<Value, String> {
    let v = s.replace('_', "").to_lowercase();
    let (neg, u) = match v.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, v.strip_prefix('+').unwrap_or(&v)),
    };
    let f = if u.contains(':') {
        let mut acc = 0.0f64;
        for p in u.split(':') {
            acc = acc * 60.0 + p.parse::<f64>().unwrap_or(0.0);
        }
        acc
    } else {
        u.parse::<f64>().unwrap_or(f64::NAN)
    };
    let f = if neg { -f } else { f };
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| format!("'{s}' (infinity or NaN) cannot be stored as JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolvers() {
        for s in [
            "on",
            "Off",
            "yes",
            "1",
            "-1_000",
            "0b101",
            "0x1f",
            "017",
            "1:30",
            "1.5",
            ".5e+3",
            ".inf",
            "2024-01-01",
            "2024-01-01T10:00:00.123+02:00",
            "2024-1-1 1:00:00Z",
            "~",
        ] {
            assert!(resolves_to_non_string(s), "{s}");
        }
        for s in [
            "0/4000060",
            "127.0.0.1:5433",
            "node1",
            "1.2.3",
            "replica",
            "08",
            "1e5",
            "2024-01-01X",
            "-.5e+3",
        ] {
            assert!(!resolves_to_non_string(s), "{s}");
        }
    }
}
