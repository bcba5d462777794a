//! check_patroni's `--config FILE`: option defaults from an INI file, read as Python's `ConfigParser`
//! reads it and applied as click's `default_map`: `[options]` for the options before the check,
//! `[options.<check>]` for the check's own (keys are check_patroni's parameter names, such as
//! `endpoints`, `max_lag`, `sync_warning`), `[DEFAULT]` for every section. A value given on the
//! command line wins; keys no option has are ignored, as click ignores them.
//!
//! Deliberate differences: no `config.ini` is read unless `--config` names one (check_patroni reads
//! one from the working directory when it exists), a named file that cannot be read is a usage error
//! (check_patroni goes on without it), and `%` in values is taken as is (no interpolation).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Command};

use crate::error::{Error, Result};

/// The sections of an INI file by name, each its keys (lowercased) and values.
pub type Sections = BTreeMap<String, BTreeMap<String, String>>;

/// Parse an INI file as `ConfigParser` does: `[section]` headers, `key = value` or `key: value`
/// (keys lowercased, both sides trimmed), indented lines continuing the value before, `#` and `;`
/// comment lines; `[DEFAULT]`'s keys are in every section. An error names the line.
pub fn parse(text: &str) -> std::result::Result<Sections, String> {
    let mut sections: Sections = BTreeMap::new();
    let mut defaults: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut last_key: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let at = |what: &str| Err(format!("line {}: {what}: {raw:?}", i + 1));
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            if name != "DEFAULT" && sections.insert(name.to_string(), BTreeMap::new()).is_some() {
                return at("section given twice");
            }
            current = Some(name.to_string());
            last_key = None;
            continue;
        }
        let map = match current.as_deref() {
            Some("DEFAULT") => &mut defaults,
            Some(name) => sections.entry(name.to_string()).or_default(),
            None => return at("a key before any [section]"),
        };
        if let (true, Some(key)) = (raw.starts_with([' ', '\t']), &last_key) {
            let value = map.entry(key.clone()).or_default();
            value.push('\n');
            value.push_str(line);
            continue;
        }
        let Some(cut) = line.find(['=', ':']) else {
            return at("neither a section nor `key = value`");
        };
        let key = line[..cut].trim().to_lowercase();
        if map
            .insert(key.clone(), line[cut + 1..].trim().to_string())
            .is_some()
        {
            return at("key given twice in its section");
        }
        last_key = Some(key);
    }
    for keys in sections.values_mut() {
        for (k, v) in &defaults {
            keys.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    Ok(sections)
}

/// The command line with the defaults of `check --config FILE` put in (the options before the check
/// just before its name, the check's own at the end), or `None` when `check` is not given `--config`.
/// `root` builds the command tree, only when it is needed.
pub fn with_defaults(
    root: impl FnOnce() -> Command,
    m: &ArgMatches,
    args: &[OsString],
) -> Result<Option<Vec<OsString>>> {
    let Some(cm) = m.subcommand_matches("check") else {
        return Ok(None);
    };
    let Some(path) = cm.get_one::<PathBuf>("config") else {
        return Ok(None);
    };
    let Some((name, sm)) = cm.subcommand() else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::usage(format!("cannot read --config {}: {e}", path.display())))?;
    let sections =
        parse(&text).map_err(|e| Error::usage(format!("--config {}: {e}", path.display())))?;
    let root = root();
    let Some(check) = root.find_subcommand("check") else {
        return Ok(None);
    };
    let Some(sub) = check.find_subcommand(name) else {
        return Ok(None);
    };
    let empty = BTreeMap::new();
    let before = tokens(check, cm, sections.get("options").unwrap_or(&empty))?;
    let own = tokens(
        sub,
        sm,
        sections.get(&format!("options.{name}")).unwrap_or(&empty),
    )?;
    let at_check = args
        .iter()
        .skip(1)
        .position(|a| a == "check")
        .map(|i| i + 1);
    let at_name = at_check.and_then(|c| args[c..].iter().position(|a| a == name).map(|i| c + i));
    let Some(at_name) = at_name else {
        return Ok(None);
    };
    let mut full = args[..at_name].to_vec();
    full.extend(before);
    full.extend_from_slice(&args[at_name..]);
    full.extend(own);
    Ok(Some(full))
}

/// The command-line tokens that give `cmd`'s options their values from `keys`, for the options not
/// given on the command line (`m`).
fn tokens(cmd: &Command, m: &ArgMatches, keys: &BTreeMap<String, String>) -> Result<Vec<OsString>> {
    let mut out: Vec<OsString> = Vec::new();
    for (key, value) in keys {
        let Some(arg) = cmd.get_arguments().find(|a| a.get_id() == key.as_str()) else {
            continue;
        };
        let Some(long) = arg.get_long() else {
            continue;
        };
        if key == "config" || m.value_source(key) == Some(ValueSource::CommandLine) {
            continue;
        }
        let flag = OsString::from(format!("--{long}"));
        match arg.get_action() {
            ArgAction::SetTrue => {
                if click_bool(value).ok_or_else(|| invalid(key, value, "a boolean"))? {
                    out.push(flag);
                }
            }
            ArgAction::Count => {
                let n: u8 = value.parse().map_err(|_| invalid(key, value, "a count"))?;
                out.extend(std::iter::repeat_n(flag, usize::from(n)));
            }
            // As check_patroni: `endpoints` is a comma separated list.
            ArgAction::Append => {
                for v in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
                    out.extend([flag.clone(), v.into()]);
                }
            }
            _ => out.extend([flag, value.into()]),
        }
    }
    Ok(out)
}

/// click's BOOL: `1/true/t/yes/y/on` and `0/false/f/no/n/off`, any case.
fn click_bool(v: &str) -> Option<bool> {
    match v.to_lowercase().as_str() {
        "1" | "true" | "t" | "yes" | "y" | "on" => Some(true),
        "0" | "false" | "f" | "no" | "n" | "off" => Some(false),
        _ => None,
    }
}

fn invalid(key: &str, value: &str, what: &str) -> Error {
    Error::usage(format!("--config: {key} = {value:?} is not {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_is_read_as_configparser_reads_it() {
        let s = parse(
            "# monitoring\n[DEFAULT]\ntimeout = 5\n\n[options]\nEndpoints = http://a:8008,\n  http://b:8008\n; no\n[options.cluster_has_replica]\nmax_lag: 1MB\ntimeout = 9\n",
        )
        .unwrap();
        assert_eq!(s["options"]["endpoints"], "http://a:8008,\nhttp://b:8008");
        assert_eq!(s["options"]["timeout"], "5");
        assert_eq!(s["options.cluster_has_replica"]["max_lag"], "1MB");
        assert_eq!(s["options.cluster_has_replica"]["timeout"], "9");
        assert!(!s.contains_key("DEFAULT"));
    }

    #[test]
    fn malformed_ini_names_the_line() {
        assert_eq!(
            parse("timeout = 5\n").unwrap_err(),
            "line 1: a key before any [section]: \"timeout = 5\""
        );
        assert!(parse("[options]\njunk\n")
            .unwrap_err()
            .starts_with("line 2: neither"));
        assert!(parse("[a]\n[a]\n")
            .unwrap_err()
            .contains("section given twice"));
        assert!(parse("[a]\nx=1\nX=2\n")
            .unwrap_err()
            .contains("key given twice"));
    }

    #[test]
    fn click_booleans() {
        assert_eq!(click_bool("Yes"), Some(true));
        assert_eq!(click_bool("off"), Some(false));
        assert_eq!(click_bool("maybe"), None);
    }
}
