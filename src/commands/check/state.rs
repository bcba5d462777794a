//! What check_patroni keeps between runs and how it reads sizes: nagiosplugin's `Cookie` (a JSON
//! object in a state file, created empty on first use, one key updated on `--save`) and
//! `size_to_byte` (`--max-lag 1MB`).

use std::path::Path;

use serde_json::{Map, Value};

use crate::py::json as pyjson;
use crate::py::repr::repr_str;

/// Read `key` from the state file (creating the file, empty, when it does not exist, as nagiosplugin
/// does). `Err` is the exception line check_patroni would die with.
pub fn cookie_get(path: &Path, key: &str) -> Result<Value, String> {
    Ok(load(path)?.remove(key).unwrap_or(Value::Null))
}

/// Set `key` to `value` in the state file, keeping its other keys (`json.dump` plus a newline).
pub fn cookie_set(path: &Path, key: &str, value: Value) -> Result<(), String> {
    let mut data = load(path)?;
    data.insert(key.to_string(), value);
    std::fs::write(path, pyjson::dumps(&Value::Object(data)) + "\n").map_err(|e| os_error(&e, path))
}

/// Python's line for an `OSError` opening `path`: the subclass of the errno, `[Errno N] strerror`,
/// and the path's `repr` (`FileNotFoundError: [Errno 2] No such file or directory: '/x/y'`).
fn os_error(e: &std::io::Error, path: &Path) -> String {
    let Some(errno) = e.raw_os_error() else {
        return format!("OSError: {e}");
    };
    let class = match errno {
        libc::ENOENT => "FileNotFoundError",
        libc::EACCES | libc::EPERM => "PermissionError",
        libc::EISDIR => "IsADirectoryError",
        libc::ENOTDIR => "NotADirectoryError",
        libc::EEXIST => "FileExistsError",
        _ => "OSError",
    };
    let text = e.to_string();
    let strerror = text
        .strip_suffix(&format!(" (os error {errno})"))
        .unwrap_or(&text);
    format!(
        "{class}: [Errno {errno}] {strerror}: {}",
        repr_str(&path.to_string_lossy())
    )
}

fn load(path: &Path) -> Result<Map<String, Value>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::write(path, "").map_err(|e| os_error(&e, path))?;
            String::new()
        }
        Err(e) => return Err(os_error(&e, path)),
    };
    if text.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(format!(
            "ValueError: format error: cookie does not contain dict: {}",
            path.display()
        )),
        Err(e) => Err(format!("json.decoder.JSONDecodeError: {e}")),
    }
}

/// check_patroni's `size_to_byte`: a number (a leading number as `strtod` reads it, 1 when there is
/// none) times its unit (`B`, `kB`, `MB`, `GB`, `TB`, case-sensitive), rounded half to even. A value
/// without a unit is refused, as check_patroni 2.2 does (its unit is then `""`, not `None`).
pub fn size_to_byte(value: &str) -> Result<i64, String> {
    let v = value.trim();
    let end = number_prefix(v);
    let (num, unit) = if end > 0 {
        match v[..end].parse::<f64>() {
            Ok(n) => (n, &v[end..]),
            Err(_) => (1.0, v),
        }
    } else {
        (1.0, v)
    };
    let mult: f64 = match unit {
        "B" => 1.0,
        "kB" => 1024.0,
        "MB" => 1024.0 * 1024.0,
        "GB" => 1024.0 * 1024.0 * 1024.0,
        "TB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err("click.exceptions.BadParameter: Invalid unit for size f{value}".into()),
    };
    Ok((num * mult).round_ties_even() as i64)
}

/// The length of `^[-+]?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?` at the start of `s` (0: no match).
fn number_prefix(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut end = if i > int_start { i } else { 0 };
    if i < b.len() && b[i] == b'.' {
        let frac_start = i + 1;
        let mut j = frac_start;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > frac_start {
            end = j;
        }
    }
    if end == 0 {
        return 0;
    }
    i = end;
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let d = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > d {
            end = j;
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_as_check_patroni() {
        assert_eq!(size_to_byte("1TB"), Ok(1_099_511_627_776));
        assert_eq!(size_to_byte("5kB"), Ok(5120));
        assert_eq!(size_to_byte(".5kB"), Ok(512));
        assert_eq!(size_to_byte("MB"), Ok(1_048_576));
        assert!(size_to_byte("100").is_err());
        assert!(size_to_byte("1 MB").is_err());
        assert!(size_to_byte(".5 yoyo").is_err());
    }

    #[test]
    fn cookies_keep_other_keys() {
        let dir = std::env::temp_dir().join(format!("patctl-cookie-{}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        assert_eq!(cookie_get(&dir, "hash"), Ok(Value::Null));
        assert!(dir.exists());
        cookie_set(&dir, "timeline", Value::from(2)).unwrap();
        cookie_set(&dir, "hash", Value::from("ab")).unwrap();
        assert_eq!(
            std::fs::read_to_string(&dir).unwrap(),
            "{\"timeline\": 2, \"hash\": \"ab\"}\n"
        );
        assert_eq!(cookie_get(&dir, "timeline"), Ok(Value::from(2)));
        std::fs::remove_file(&dir).unwrap();
    }
}
