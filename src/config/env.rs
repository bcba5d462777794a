//! Patroni's `_build_environment_configuration` (the `PATRONI_*` variables patronictl reads) and
//! `parse_bool`.

use std::collections::BTreeMap;

use super::*;

/// Environment variable suffixes Patroni maps into a DCS section (`PATRONI_<DCS>_<SUFFIX>`).
pub(super) const DCS_ENV_SUFFIXES: [&str; 19] = [
    "HOST",
    "HOSTS",
    "PORT",
    "USE_PROXIES",
    "PROTOCOL",
    "SRV",
    "SRV_SUFFIX",
    "URL",
    "PROXY",
    "CACERT",
    "CERT",
    "KEY",
    "VERIFY",
    "TOKEN",
    "NAMESPACE",
    "KEY_PASSWORD",
    "USE_SSL",
    "GROUP",
    "DATABASE",
];

pub(super) fn section_mut<'a>(m: &'a mut Mapping, name: &str) -> &'a mut Mapping {
    if !matches!(m.get(name), Some(Value::Object(_))) {
        m.insert(name.to_string(), Value::Object(Mapping::new()));
    }
    match m.get_mut(name) {
        Some(Value::Object(s)) => s,
        _ => unreachable!("section was just inserted"),
    }
}

/// Patroni's `_build_environment_configuration`, limited to what patronictl reads.
pub(super) fn environment_configuration(env: &BTreeMap<String, String>) -> Result<Mapping> {
    let mut ret = Mapping::new();
    let get = |name: &str| {
        env.get(&format!("PATRONI_{name}"))
            .filter(|v| !v.is_empty())
            .cloned()
    };
    for param in ["NAME", "NAMESPACE", "SCOPE"] {
        if let Some(v) = get(param) {
            ret.insert(param.to_lowercase(), v.into());
        }
    }
    for param in ["CACERT", "CERTFILE", "KEYFILE", "KEYFILE_PASSWORD"] {
        if let Some(v) = get(&format!("CTL_{param}")) {
            section_mut(&mut ret, "ctl").insert(param.to_lowercase(), v.into());
        }
    }
    if let Some(v) = get("CTL_INSECURE").and_then(|v| parse_bool_str(&v)) {
        section_mut(&mut ret, "ctl").insert("insecure".into(), v.into());
    }
    for param in ["CAFILE", "CERTFILE", "KEYFILE"] {
        if let Some(v) = get(&format!("RESTAPI_{param}")) {
            section_mut(&mut ret, "restapi").insert(param.to_lowercase(), v.into());
        }
    }
    for section in ["CTL", "RESTAPI"] {
        let mut auth = Mapping::new();
        for p in ["USERNAME", "PASSWORD"] {
            if let Some(v) = get(&format!("{section}_{p}")) {
                auth.insert(p.to_lowercase(), v.into());
            }
        }
        if !auth.is_empty() {
            section_mut(&mut ret, &section.to_lowercase())
                .insert("authentication".into(), Value::Object(auth));
        }
    }
    for (key, value) in env {
        let Some(rest) = key.strip_prefix("PATRONI_") else {
            continue;
        };
        let Some((name, suffix)) = rest.split_once('_') else {
            continue;
        };
        if name.is_empty()
            || !DCS_ENV_SUFFIXES.contains(&suffix)
            || matches!(name, "CTL" | "RESTAPI")
        {
            continue;
        }
        let parsed: Value = if name == "CITUS" {
            match suffix {
                "GROUP" => match value.trim().parse::<i64>() {
                    Ok(g) => g.into(),
                    Err(_) => continue,
                },
                "DATABASE" => value.clone().into(),
                _ => continue,
            }
        } else {
            match suffix {
                "PORT" => match value.trim().parse::<i64>() {
                    Ok(p) => p.into(),
                    Err(_) => continue,
                },
                "HOSTS" => parse_env_list(value, key)?,
                "USE_PROXIES" | "VERIFY" => match parse_bool_str(value) {
                    Some(b) => b.into(),
                    None => continue,
                },
                _ => value.clone().into(),
            }
        };
        section_mut(&mut ret, &name.to_lowercase()).insert(suffix.to_lowercase(), parsed);
    }
    for dcs in ["ETCD", "ETCD3"] {
        if ret.contains_key(&dcs.to_lowercase()) {
            for p in ["USERNAME", "PASSWORD"] {
                if let Some(v) = get(&format!("{dcs}_{p}")) {
                    section_mut(&mut ret, &dcs.to_lowercase()).insert(p.to_lowercase(), v.into());
                }
            }
        }
    }
    Ok(ret)
}

pub(super) fn parse_env_list(value: &str, var: &str) -> Result<Value> {
    let text = if value.trim().starts_with('-') || value.contains('[') {
        value.to_string()
    } else {
        format!("[{value}]")
    };
    yaml_load::load(&text).map_err(|e| {
        Error::usage(format!(
            "malformed list in {var}: {}",
            first_line(&e.message)
        ))
        .with_source(e)
    })
}

/// Patroni's `parse_bool` on a string: on/true/yes/1 and off/false/no/0, case-insensitive.
pub fn parse_bool_str(s: &str) -> Option<bool> {
    match s.to_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Some(true),
        "off" | "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_hosts_list_forms() {
        let mut env = BTreeMap::new();
        env.insert(
            "PATRONI_ETCD3_HOSTS".to_string(),
            "'h1:1','h2:2'".to_string(),
        );
        let m = environment_configuration(&env).unwrap();
        let hosts = get(&m, &["etcd3", "hosts"]).unwrap().as_array().unwrap();
        assert_eq!(hosts.len(), 2);
    }
}
