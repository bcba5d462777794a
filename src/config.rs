//! Configuration discovery and loading, mirroring patronictl's `load_config`, `parse_dcs` and Patroni's
//! `Config` (file or directory of YAML files, `PATRONI_CONFIGURATION`, `PATRONI_*` overrides, `-d/--dcs-url`).
//!
//! The result is a [`Settings`]: the raw merged YAML (kept for `ctl:`/`restapi:` lookups) plus the
//! resolved pieces every command needs: scope, namespace, the DCS endpoints and the REST client options.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_yaml::{Mapping, Value};

use crate::error::{Error, Result};

/// The DCS schemes patronictl knows, with their default ports, in patronictl's lookup order.
const DCS_DEFAULTS: [(&str, u16); 5] = [
    ("zookeeper", 2181),
    ("exhibitor", 8181),
    ("consul", 8500),
    ("etcd", 2379),
    ("etcd3", 2379),
];

/// DCS modules in the order Patroni tries them (alphabetical); the first with a config section wins.
const DCS_MODULES: [&str; 7] = [
    "consul",
    "etcd",
    "etcd3",
    "exhibitor",
    "kubernetes",
    "raft",
    "zookeeper",
];

/// The DCS sections patctl can use (the others are refused with a clear message).
const SUPPORTED_DCS: [&str; 3] = ["etcd", "etcd3", "zookeeper"];

/// Environment variable suffixes Patroni maps into a DCS section (`PATRONI_<DCS>_<SUFFIX>`).
const DCS_ENV_SUFFIXES: [&str; 19] = [
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

/// Which DCS (and which API of it) a DCS section speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DcsKind {
    /// etcd v3 (gRPC), the `etcd3:` section or `etcd3://`.
    Etcd3,
    /// etcd v2 (HTTP `/v2/keys`), the `etcd:` section, `etcd://` or a bare `-d host:port`.
    Etcd2,
    /// ZooKeeper, the `zookeeper:` section, `zookeeper://` or a bare `-d host:2181`.
    Zookeeper,
}

/// Resolved connection settings for the DCS. Its `Debug` never shows the password.
#[derive(Clone)]
pub struct DcsSettings {
    /// Which API to speak.
    pub kind: DcsKind,
    /// Endpoints as URLs (`http://host:port`), never with credentials in them; for ZooKeeper the
    /// servers as `host:port`.
    pub endpoints: Vec<String>,
    /// Use the configured endpoints as they are (`proxy`, `use_proxies`) instead of the member list the
    /// cluster advertises.
    pub use_proxies: bool,
    /// etcd user name, if authentication is configured.
    pub username: Option<String>,
    /// etcd password.
    pub password: Option<String>,
    /// CA bundle for TLS to etcd.
    pub cacert: Option<PathBuf>,
    /// Client certificate for TLS to etcd.
    pub cert: Option<PathBuf>,
    /// Client key for TLS to etcd.
    pub key: Option<PathBuf>,
    /// Bound on every DCS call.
    pub timeout: Duration,
}

/// Resolved settings for the Patroni REST client (the `ctl:` and `restapi:` sections). Its `Debug` never
/// shows the password.
#[derive(Clone, Default)]
pub struct RestSettings {
    /// `user:password` for basic auth on writes.
    pub auth: Option<(String, String)>,
    /// Skip TLS verification (`-k` or `ctl.insecure`).
    pub insecure: bool,
    /// CA bundle (`ctl.cacert`, else `restapi.cafile`).
    pub cacert: Option<PathBuf>,
    /// Client certificate (`ctl.certfile`).
    pub certfile: Option<PathBuf>,
    /// Client key (`ctl.keyfile`).
    pub keyfile: Option<PathBuf>,
    /// `ctl.keyfile_password`: decrypts an encrypted `ctl.keyfile`.
    pub keyfile_password: Option<String>,
    /// Bound on every REST call.
    pub timeout: Duration,
}

/// Everything a command needs from the configuration. Its `Debug` leaves out the raw document (which
/// holds passwords).
#[derive(Clone)]
pub struct Settings {
    /// The merged configuration document.
    pub raw: Mapping,
    /// `scope`, the default cluster name.
    pub scope: Option<String>,
    /// The namespace, e.g. `/service/`.
    pub namespace: String,
    /// `citus.group` when a valid `citus` section exists.
    pub citus_group: Option<i64>,
    /// Whether a valid `citus` section exists.
    pub citus: bool,
    /// DCS settings, or the reason there are none (reported when a command needs the DCS).
    pub dcs: std::result::Result<DcsSettings, String>,
    /// REST client settings.
    pub rest: RestSettings,
}

const REDACTED: &str = "<redacted>";

impl std::fmt::Debug for DcsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DcsSettings")
            .field("kind", &self.kind)
            .field("endpoints", &self.endpoints)
            .field("use_proxies", &self.use_proxies)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| REDACTED))
            .field("cacert", &self.cacert)
            .field("cert", &self.cert)
            .field("key", &self.key)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl std::fmt::Debug for RestSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestSettings")
            .field("auth", &self.auth.as_ref().map(|(u, _)| (u, REDACTED)))
            .field("insecure", &self.insecure)
            .field("cacert", &self.cacert)
            .field("certfile", &self.certfile)
            .field("keyfile", &self.keyfile)
            .field(
                "keyfile_password",
                &self.keyfile_password.as_ref().map(|_| REDACTED),
            )
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("scope", &self.scope)
            .field("namespace", &self.namespace)
            .field("citus_group", &self.citus_group)
            .field("dcs", &self.dcs)
            .field("rest", &self.rest)
            .finish_non_exhaustive()
    }
}

/// What the command line and environment say about where the configuration is.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// `-c/--config-file` or `PATRONICTL_CONFIG_FILE`.
    pub config_file: Option<PathBuf>,
    /// `-d/--dcs-url` or `DCS_URL`.
    pub dcs_url: Option<String>,
    /// `-k/--insecure`.
    pub insecure: bool,
    /// `--request-timeout` for DCS and REST calls.
    pub timeout: Duration,
}

/// The default config path: `$XDG_CONFIG_HOME/patroni/patronictl.yaml`, else `~/.config/patroni/patronictl.yaml`.
pub fn default_config_path() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from(".config"));
    base.join("patroni").join("patronictl.yaml")
}

/// Load and resolve the configuration the way patronictl does.
pub fn load(sources: &Sources) -> Result<Settings> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    load_with_env(sources, &env)
}

/// [`load`] with an explicit environment (for tests).
pub fn load_with_env(sources: &Sources, env: &BTreeMap<String, String>) -> Result<Settings> {
    let default_path = default_config_path();
    let path = sources
        .config_file
        .clone()
        .unwrap_or_else(|| default_path.clone());
    let read = readable(&path).then_some(path.as_path());
    let mut config = if read.is_some() {
        load_path(&path)?
    } else if path != default_path {
        return Err(Error::usage(format!(
            "Provided config file {} not existing or no read rights. Check the -c/--config-file parameter",
            path.display()
        )));
    } else if let Some(doc) = env.get("PATRONI_CONFIGURATION") {
        parse_yaml_mapping(doc, "PATRONI_CONFIGURATION")?
    } else {
        Mapping::new()
    };
    let env_config = environment_configuration(env)?;
    patch(&mut config, &env_config);

    if let Some(url) = &sources.dcs_url {
        let parsed = parse_dcs_url(url)?;
        for (name, _) in DCS_DEFAULTS {
            config.remove(name);
        }
        for (k, v) in parsed {
            config.insert(k, v);
        }
    }
    let mut settings = resolve(config, sources)?;
    if let Err(e) = &mut settings.dcs {
        if e.starts_with(NO_DCS) {
            e.push('\n');
            e.push_str(&looked_in(read, &default_path));
        }
    }
    Ok(settings)
}

fn readable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok() && (path.is_dir() || std::fs::File::open(path).is_ok())
}

/// Load a YAML file, or merge every `*.yml`/`*.yaml` file of a directory in alphabetical order.
fn load_path(path: &Path) -> Result<Mapping> {
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| {
                Error::usage(format!(
                    "cannot read config directory {}: {e}",
                    path.display()
                ))
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml"))
            })
            .collect();
        files.sort();
        let mut merged = Mapping::new();
        for file in files {
            let doc = load_file(&file)?;
            patch(&mut merged, &doc);
        }
        Ok(merged)
    } else {
        load_file(path)
    }
}

fn load_file(path: &Path) -> Result<Mapping> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::usage(format!("cannot read config file {}: {e}", path.display())))?;
    parse_yaml_mapping(&text, &path.display().to_string())
}

/// Parse a YAML document that must be a mapping (or empty); errors name the source and line.
pub fn parse_yaml_mapping(text: &str, source: &str) -> Result<Mapping> {
    let value: Value = serde_yaml::from_str(text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(" at line {} column {}", l.line(), l.column()))
            .unwrap_or_default();
        Error::usage(format!(
            "malformed YAML in {source}{at}: {}",
            first_line(&e.to_string())
        ))
    })?;
    match value {
        Value::Mapping(m) => Ok(m),
        Value::Null => Ok(Mapping::new()),
        _ => Err(Error::usage(format!(
            "malformed config in {source}: the top level must be a mapping"
        ))),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// Patroni's `patch_config`: merge `src` into `dst`; null deletes, mappings merge recursively.
pub fn patch(dst: &mut Mapping, src: &Mapping) {
    for (k, v) in src {
        match v {
            Value::Null => {
                dst.remove(k);
            }
            Value::Mapping(sm) => match dst.get_mut(k) {
                Some(Value::Mapping(dm)) => patch(dm, sm),
                _ => {
                    let mut fresh = Mapping::new();
                    patch(&mut fresh, sm);
                    dst.insert(k.clone(), Value::Mapping(fresh));
                }
            },
            _ => {
                dst.insert(k.clone(), v.clone());
            }
        }
    }
}

fn section_mut<'a>(m: &'a mut Mapping, name: &str) -> &'a mut Mapping {
    let key = Value::from(name);
    if !matches!(m.get(&key), Some(Value::Mapping(_))) {
        m.insert(key.clone(), Value::Mapping(Mapping::new()));
    }
    match m.get_mut(&key) {
        Some(Value::Mapping(s)) => s,
        _ => unreachable!("section was just inserted"),
    }
}

/// Patroni's `_build_environment_configuration`, limited to what patronictl reads.
fn environment_configuration(env: &BTreeMap<String, String>) -> Result<Mapping> {
    let mut ret = Mapping::new();
    let get = |name: &str| {
        env.get(&format!("PATRONI_{name}"))
            .filter(|v| !v.is_empty())
            .cloned()
    };
    for param in ["NAME", "NAMESPACE", "SCOPE"] {
        if let Some(v) = get(param) {
            ret.insert(param.to_lowercase().into(), v.into());
        }
    }
    for param in ["CACERT", "CERTFILE", "KEYFILE", "KEYFILE_PASSWORD"] {
        if let Some(v) = get(&format!("CTL_{param}")) {
            section_mut(&mut ret, "ctl").insert(param.to_lowercase().into(), v.into());
        }
    }
    if let Some(v) = get("CTL_INSECURE").and_then(|v| parse_bool_str(&v)) {
        section_mut(&mut ret, "ctl").insert("insecure".into(), v.into());
    }
    for param in ["CAFILE", "CERTFILE", "KEYFILE"] {
        if let Some(v) = get(&format!("RESTAPI_{param}")) {
            section_mut(&mut ret, "restapi").insert(param.to_lowercase().into(), v.into());
        }
    }
    for section in ["CTL", "RESTAPI"] {
        let mut auth = Mapping::new();
        for p in ["USERNAME", "PASSWORD"] {
            if let Some(v) = get(&format!("{section}_{p}")) {
                auth.insert(p.to_lowercase().into(), v.into());
            }
        }
        if !auth.is_empty() {
            section_mut(&mut ret, &section.to_lowercase())
                .insert("authentication".into(), Value::Mapping(auth));
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
        section_mut(&mut ret, &name.to_lowercase()).insert(suffix.to_lowercase().into(), parsed);
    }
    for dcs in ["ETCD", "ETCD3"] {
        let key = Value::from(dcs.to_lowercase());
        if ret.contains_key(&key) {
            for p in ["USERNAME", "PASSWORD"] {
                if let Some(v) = get(&format!("{dcs}_{p}")) {
                    section_mut(&mut ret, &dcs.to_lowercase())
                        .insert(p.to_lowercase().into(), v.into());
                }
            }
        }
    }
    Ok(ret)
}

fn parse_env_list(value: &str, var: &str) -> Result<Value> {
    let text = if value.trim().starts_with('-') || value.contains('[') {
        value.to_string()
    } else {
        format!("[{value}]")
    };
    serde_yaml::from_str(&text).map_err(|e| {
        Error::usage(format!(
            "malformed list in {var}: {}",
            first_line(&e.to_string())
        ))
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

/// patronictl's `parse_dcs`: `[SCHEME://][HOST][:PORT][/NAMESPACE]` into config sections.
pub fn parse_dcs_url(url: &str) -> Result<Mapping> {
    let bad = |why: &str| Error::usage(format!("invalid DCS URL '{url}': {why}"));
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (s.to_string(), r),
        None => (String::new(), url.strip_prefix("//").unwrap_or(url)),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let authority = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    let (host, port) = if let Some(stripped) = authority.strip_prefix('[') {
        let (h, after) = stripped
            .split_once(']')
            .ok_or_else(|| bad("unterminated IPv6 address"))?;
        (h.to_string(), after.strip_prefix(':').unwrap_or(""))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p),
            None => (authority.to_string(), ""),
        }
    };
    let port: Option<u16> = if port.is_empty() {
        None
    } else {
        Some(
            port.parse()
                .map_err(|_| bad(&format!("port '{port}' is not a number from 1 to 65535")))?,
        )
    };
    let scheme = scheme.to_lowercase();
    let scheme = if scheme.is_empty() {
        DCS_DEFAULTS
            .iter()
            .find(|(_, p)| Some(*p) == port)
            .map(|(s, _)| *s)
            .unwrap_or("etcd")
            .to_string()
    } else if DCS_DEFAULTS.iter().any(|(s, _)| *s == scheme) {
        scheme
    } else {
        return Err(Error::usage(format!("Unknown dcs scheme: {scheme}")));
    };
    let default_port = DCS_DEFAULTS
        .iter()
        .find(|(s, _)| *s == scheme)
        .map(|(_, p)| *p)
        .unwrap_or(2379);
    let host = if host.is_empty() {
        "localhost".to_string()
    } else {
        host
    };
    let hostport = if host.contains(':') {
        format!("[{host}]:{}", port.unwrap_or(default_port))
    } else {
        format!("{host}:{}", port.unwrap_or(default_port))
    };
    let mut section = Mapping::new();
    match scheme.as_str() {
        "zookeeper" => {
            section.insert("hosts".into(), Value::Sequence(vec![hostport.into()]));
        }
        "exhibitor" => {
            section.insert("hosts".into(), Value::Sequence(vec![host.into()]));
            section.insert(
                "port".into(),
                i64::from(port.unwrap_or(default_port)).into(),
            );
        }
        _ => {
            section.insert("host".into(), hostport.into());
        }
    }
    let mut ret = Mapping::new();
    ret.insert(scheme.into(), Value::Mapping(section));
    if !path.trim().is_empty() && path.trim() != "/" {
        ret.insert("namespace".into(), path.trim().into());
    }
    Ok(ret)
}

fn get<'a>(m: &'a Mapping, path: &[&str]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let v = m.get(*first)?;
    if rest.is_empty() {
        Some(v)
    } else {
        get(v.as_mapping()?, rest)
    }
}

/// A scalar config value as a string (YAML may give a number or bool where a string is meant).
pub fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.to_string()),
        _ => None,
    }
}

fn get_str(m: &Mapping, path: &[&str]) -> Option<String> {
    get(m, path)
        .and_then(scalar_string)
        .filter(|s| !s.is_empty())
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => parse_bool_str(s).unwrap_or(!s.is_empty()),
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        _ => false,
    }
}

/// patronictl's first line when no DCS section is found.
const NO_DCS: &str = "Can not find suitable configuration of distributed configuration store";

/// Where the configuration came from, for the "no DCS" error: the file read, or every place looked.
fn looked_in(read: Option<&Path>, default_path: &Path) -> String {
    let source = match read {
        Some(p) => format!("No DCS section in {}", p.display()),
        None => format!(
            "No configuration file: -c/--config-file not given, PATRONICTL_CONFIG_FILE not set, {} not found",
            default_path.display()
        ),
    };
    format!(
        "{source}; name a configuration file with -c or PATRONICTL_CONFIG_FILE, or the DCS with -d (e.g. -d etcd3://127.0.0.1:2379)"
    )
}

fn resolve(raw: Mapping, sources: &Sources) -> Result<Settings> {
    let scope = get_str(&raw, &["scope"]);
    let namespace = get_str(&raw, &["namespace"]).unwrap_or_else(|| "/service/".to_string());
    let citus_group = get(&raw, &["citus", "group"]).and_then(Value::as_i64);
    let citus = citus_group.is_some()
        && get(&raw, &["citus", "database"])
            .map(Value::is_string)
            .unwrap_or(false);

    let dcs = resolve_dcs(&raw, sources.timeout);
    let rest = resolve_rest(&raw, sources)?;
    Ok(Settings {
        scope,
        namespace,
        citus_group: citus.then_some(citus_group).flatten(),
        citus,
        dcs,
        rest,
        raw,
    })
}

fn resolve_dcs(raw: &Mapping, timeout: Duration) -> std::result::Result<DcsSettings, String> {
    let Some(module) = DCS_MODULES
        .iter()
        .find(|m| matches!(raw.get(**m), Some(Value::Mapping(_))))
    else {
        return Err(format!(
            "{NO_DCS}\nAvailable implementations: {}",
            SUPPORTED_DCS.join(", ")
        ));
    };
    let kind = match *module {
        "etcd3" => DcsKind::Etcd3,
        "etcd" => DcsKind::Etcd2,
        "zookeeper" => DcsKind::Zookeeper,
        other => {
            return Err(format!(
                "the '{other}' DCS is not supported by patctl (supported: {})",
                SUPPORTED_DCS.join(", ")
            ))
        }
    };
    let Some(Value::Mapping(section)) = raw.get(*module) else {
        unreachable!("checked above")
    };
    if kind == DcsKind::Zookeeper {
        return Ok(DcsSettings {
            kind,
            endpoints: zookeeper_hosts(section)?,
            use_proxies: false,
            username: None,
            password: None,
            cacert: None,
            cert: None,
            key: None,
            timeout,
        });
    }
    let ep = resolve_etcd_endpoints(module, section)?;
    let cert = get_str(section, &["cert"]).map(PathBuf::from);
    Ok(DcsSettings {
        kind,
        endpoints: ep.endpoints,
        use_proxies: ep.use_proxies,
        username: ep.username,
        password: ep.password,
        cacert: get_str(section, &["cacert"]).map(PathBuf::from),
        // Patroni passes a lone `cert` on as a file holding both the certificate and its key.
        key: get_str(section, &["key"])
            .map(PathBuf::from)
            .or_else(|| cert.clone()),
        cert,
        timeout,
    })
}

/// The servers of a `zookeeper:` section as `host:port`, as Patroni hands `hosts` (list or comma string)
/// to kazoo, which defaults the port to 2181. What patctl cannot do is refused here, by name: TLS
/// (`use_ssl`), `auth_data`, `set_acls` (patronictl would create `failover` with those ACLs), and a
/// chroot after the host list.
fn zookeeper_hosts(section: &Mapping) -> std::result::Result<Vec<String>, String> {
    if truthy(section.get("use_ssl")) {
        return Err("TLS to ZooKeeper (zookeeper.use_ssl) is not supported by patctl".to_string());
    }
    if section.contains_key("auth_data") {
        return Err(
            "ZooKeeper authentication (zookeeper.auth_data) is not supported by patctl".to_string(),
        );
    }
    if section.contains_key("set_acls") {
        return Err("ZooKeeper ACLs (zookeeper.set_acls) are not supported by patctl".to_string());
    }
    let joined = match section.get("hosts") {
        Some(Value::Sequence(seq)) => seq
            .iter()
            .filter_map(scalar_string)
            .collect::<Vec<_>>()
            .join(","),
        Some(v) => scalar_string(v).unwrap_or_default(),
        None => String::new(),
    };
    let (list, chroot) = match joined.find('/') {
        Some(i) => (&joined[..i], joined[i..].trim()),
        None => (joined.as_str(), ""),
    };
    if !chroot.is_empty() && chroot != "/" {
        return Err(format!(
            "a ZooKeeper chroot in zookeeper.hosts ('{chroot}') is not supported by patctl; use `namespace`"
        ));
    }
    let mut hosts = Vec::new();
    for h in list.split(',').map(str::trim).filter(|h| !h.is_empty()) {
        let (host, port) = split_host_port("zookeeper", h, 2181)?;
        hosts.push(if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        });
    }
    if hosts.is_empty() {
        return Err("zookeeper.hosts lists no server".to_string());
    }
    Ok(hosts)
}

/// The endpoint part of an `etcd:`/`etcd3:` section, resolved as Patroni's `get_etcd_client` does.
struct EtcdEndpoints {
    endpoints: Vec<String>,
    use_proxies: bool,
    username: Option<String>,
    password: Option<String>,
}

/// Patroni's precedence: `proxy` (implies `use_proxies`), else `url` (whose user and password replace the
/// section's), else `hosts` (list or comma string; `port` is the default port), else `host` (an explicit
/// `port` wins over the one in `host`). `srv` comes first in Patroni; patctl cannot resolve SRV records, so
/// it uses `hosts`/`host` when they are there too (as Patroni does when SRV yields nothing) and refuses
/// otherwise.
fn resolve_etcd_endpoints(
    module: &str,
    section: &Mapping,
) -> std::result::Result<EtcdEndpoints, String> {
    let protocol = get_str(section, &["protocol"]).unwrap_or_else(|| "http".to_string());
    let port_key = match section.get("port") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            scalar_string(v)
                .and_then(|s| s.trim().parse::<u16>().ok())
                .ok_or_else(|| format!("{module}.port is not a port number"))?,
        ),
    };
    let mut username = get_str(section, &["username"]);
    let mut password = get_str(section, &["password"]);
    let proxy = get_str(section, &["proxy"]);
    let use_proxies = proxy.is_some() || truthy(section.get("use_proxies"));
    let mut endpoints = Vec::new();
    if let Some(url) = proxy.or_else(|| get_str(section, &["url"])) {
        let (endpoint, user, pass) = split_url(&url)
            .ok_or_else(|| format!("{module}.url is not a valid URL (scheme://host[:port])"))?;
        endpoints.push(endpoint);
        username = user;
        password = pass;
    } else if let Some(hosts) = section.get("hosts") {
        let default_port = port_key.unwrap_or(2379);
        let list: Vec<String> = match hosts {
            Value::Sequence(seq) => seq.iter().filter_map(scalar_string).collect(),
            v => scalar_string(v)
                .map(|s| s.split(',').map(String::from).collect())
                .unwrap_or_default(),
        };
        for h in list.iter().map(|h| h.trim()).filter(|h| !h.is_empty()) {
            endpoints.push(host_endpoint(module, &protocol, h, default_port)?);
        }
    } else if let Some(host) = get_str(section, &["host"]) {
        let (h, p) = split_host_port(module, host.trim(), 2379)?;
        endpoints.push(endpoint_uri(&protocol, &h, port_key.unwrap_or(p)));
    }
    if endpoints.is_empty() {
        if ["srv", "discovery_srv", "srv_domain"]
            .iter()
            .any(|k| section.contains_key(*k))
        {
            return Err(format!(
                "DNS SRV discovery of etcd ({module}.srv) is not supported by patctl; list the members in {module}.hosts"
            ));
        }
        return Err(
            "Neither srv, hosts, host nor url are defined in etcd section of config".to_string(),
        );
    }
    Ok(EtcdEndpoints {
        endpoints,
        use_proxies,
        username,
        password,
    })
}

/// One `hosts` entry: `host[:port]`, or (a patctl extension) a full `scheme://host:port` URL.
fn host_endpoint(
    module: &str,
    protocol: &str,
    entry: &str,
    default_port: u16,
) -> std::result::Result<String, String> {
    if entry.contains("://") {
        let (endpoint, _, _) = split_url(entry)
            .ok_or_else(|| format!("{module}.hosts entry '{entry}' is not a valid URL"))?;
        return Ok(endpoint);
    }
    let (h, p) = split_host_port(module, entry, default_port)?;
    Ok(endpoint_uri(protocol, &h, p))
}

/// Patroni's `split_host_port`: `host:port`, `[v6]:port` or a bare host with the default port.
fn split_host_port(
    module: &str,
    value: &str,
    default_port: u16,
) -> std::result::Result<(String, u16), String> {
    let bad = || format!("{module}: '{value}' is not host:port");
    if let Some(rest) = value.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or_else(bad)?;
        return match after.strip_prefix(':') {
            Some(p) => Ok((h.to_string(), p.parse().map_err(|_| bad())?)),
            None if after.is_empty() => Ok((h.to_string(), default_port)),
            None => Err(bad()),
        };
    }
    match value.rsplit_once(':') {
        // More than one colon and no brackets: an IPv6 address without a port.
        Some((h, _)) if h.contains(':') => Ok((value.to_string(), default_port)),
        Some((h, p)) => Ok((h.to_string(), p.parse().map_err(|_| bad())?)),
        None => Ok((value.to_string(), default_port)),
    }
}

/// Patroni's `uri(protocol, (host, port))`, bracketing IPv6 addresses.
fn endpoint_uri(protocol: &str, host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("{protocol}://[{host}]:{port}")
    } else {
        format!("{protocol}://{host}:{port}")
    }
}

/// Split `scheme://[user[:password]@]host[:port][/path]` into the endpoint (without credentials or path,
/// port 2379 by default) and the credentials.
fn split_url(url: &str) -> Option<(String, Option<String>, Option<String>)> {
    let (scheme, rest) = url.trim().split_once("://")?;
    if scheme.is_empty() {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (user, pass) = match userinfo {
        Some(u) => match u.split_once(':') {
            Some((a, b)) => (Some(a.to_string()), Some(b.to_string())),
            None => (Some(u.to_string()), None),
        },
        None => (None, None),
    };
    let (host, port) = split_host_port("url", hostport, 2379).ok()?;
    if host.is_empty() {
        return None;
    }
    let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
    Some((
        endpoint_uri(&scheme.to_lowercase(), &host, port),
        nonempty(user),
        nonempty(pass),
    ))
}

fn resolve_rest(raw: &Mapping, sources: &Sources) -> Result<RestSettings> {
    let auth_of = |section: &str| -> Result<Option<(String, String)>> {
        match get(raw, &[section, "authentication"]) {
            Some(Value::Mapping(a)) => {
                let user = a.get("username").and_then(scalar_string);
                let pass = a.get("password").and_then(scalar_string);
                match (user, pass) {
                    (Some(u), Some(p)) => Ok(Some((u, p))),
                    (None, None) => Ok(None),
                    _ => Err(Error::usage(format!(
                        "{section}.authentication needs both username and password"
                    ))),
                }
            }
            _ => Ok(None),
        }
    };
    let auth = match auth_of("ctl")? {
        Some(a) => Some(a),
        None => match get_str(raw, &["ctl", "auth"]) {
            Some(s) => s
                .split_once(':')
                .map(|(u, p)| (u.to_string(), p.to_string())),
            None => auth_of("restapi")?,
        },
    };
    Ok(RestSettings {
        auth,
        insecure: sources.insecure || truthy(get(raw, &["ctl", "insecure"])),
        cacert: get_str(raw, &["ctl", "cacert"])
            .or_else(|| get_str(raw, &["restapi", "cafile"]))
            .map(PathBuf::from),
        certfile: get_str(raw, &["ctl", "certfile"]).map(PathBuf::from),
        keyfile: get_str(raw, &["ctl", "keyfile"]).map(PathBuf::from),
        keyfile_password: get_str(raw, &["ctl", "keyfile_password"]),
        timeout: sources.timeout,
    })
}

impl Settings {
    /// The DCS settings, or patronictl's error when no usable DCS section exists.
    pub fn dcs(&self) -> Result<&DcsSettings> {
        self.dcs.as_ref().map_err(|e| Error::usage(e.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn srcs(file: Option<&str>, url: Option<&str>) -> Sources {
        Sources {
            config_file: file.map(PathBuf::from),
            dcs_url: url.map(String::from),
            insecure: false,
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn dcs_url_schemes_and_defaults() {
        let m = parse_dcs_url("etcd3://127.0.0.1:2379/custom").unwrap();
        assert_eq!(get_str(&m, &["etcd3", "host"]).unwrap(), "127.0.0.1:2379");
        assert_eq!(get_str(&m, &["namespace"]).unwrap(), "/custom");
        // No scheme and port 2379 means etcd v2, as in patronictl.
        let m = parse_dcs_url("10.0.0.1:2379").unwrap();
        assert!(m.contains_key("etcd") && !m.contains_key("etcd3"));
        let m = parse_dcs_url("").unwrap();
        assert_eq!(get_str(&m, &["etcd", "host"]).unwrap(), "localhost:2379");
        let m = parse_dcs_url("h:8500").unwrap();
        assert!(m.contains_key("consul"));
        assert_eq!(
            parse_dcs_url("http://h:1").unwrap_err().message,
            "Unknown dcs scheme: http"
        );
        assert_eq!(
            parse_dcs_url("etcd3://h:xx").unwrap_err().exit,
            crate::error::Exit::Usage
        );
    }

    #[test]
    fn env_overrides_file_and_missing_file_is_named() {
        let dir = std::env::temp_dir().join(format!("patctl-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("p.yml");
        std::fs::write(&f, "scope: a\nnamespace: /ns/\netcd3:\n  hosts: 127.0.0.1:2379\nrestapi:\n  authentication: {username: r, password: r}\n").unwrap();
        let mut env = BTreeMap::new();
        env.insert("PATRONI_SCOPE".to_string(), "b".to_string());
        env.insert("PATRONI_CTL_USERNAME".to_string(), "e".to_string());
        env.insert("PATRONI_CTL_PASSWORD".to_string(), "p".to_string());
        let s = load_with_env(&srcs(f.to_str(), None), &env).unwrap();
        assert_eq!(s.scope.as_deref(), Some("b"));
        assert_eq!(s.rest.auth, Some(("e".into(), "p".into())));
        assert_eq!(crate::dcs::Layout::of(&s).cluster_dir("b", None), "/ns/b/");
        assert_eq!(s.dcs().unwrap().endpoints, vec!["http://127.0.0.1:2379"]);
        assert_eq!(s.dcs().unwrap().kind, DcsKind::Etcd3);

        let s =
            load_with_env(&srcs(f.to_str(), Some("etcd://10.1.1.1")), &BTreeMap::new()).unwrap();
        assert_eq!(s.dcs().unwrap().kind, DcsKind::Etcd2);
        assert_eq!(s.rest.auth, Some(("r".into(), "r".into())));

        let err =
            load_with_env(&srcs(Some("/nonexistent/x.yml"), None), &BTreeMap::new()).unwrap_err();
        assert!(
            err.message.contains("/nonexistent/x.yml"),
            "{}",
            err.message
        );

        std::fs::write(&f, "scope: [a\n").unwrap();
        let err = load_with_env(&srcs(f.to_str(), None), &BTreeMap::new()).unwrap_err();
        assert!(
            err.message.contains("p.yml") && err.message.contains("line"),
            "{}",
            err.message
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn dcs_of(yaml: &str) -> std::result::Result<DcsSettings, String> {
        let raw = parse_yaml_mapping(yaml, "test").unwrap();
        resolve_dcs(&raw, Duration::from_secs(5))
    }

    #[test]
    fn etcd_endpoints_follow_patroni_precedence() {
        let d = dcs_of("etcd3: {hosts: 'a:1, b ,[::1]:3', port: 2000, protocol: https}").unwrap();
        assert_eq!(
            d.endpoints,
            vec!["https://a:1", "https://b:2000", "https://[::1]:3"]
        );
        assert!(!d.use_proxies);
        let d = dcs_of("etcd: {hosts: [h1, 'h2:5'], host: ignored:1}").unwrap();
        assert_eq!(d.endpoints, vec!["http://h1:2379", "http://h2:5"]);
        assert_eq!(d.kind, DcsKind::Etcd2);
        // An explicit port wins over the one in `host`, as in Patroni.
        let d = dcs_of("etcd3: {host: 'h:1', port: 7}").unwrap();
        assert_eq!(d.endpoints, vec!["http://h:7"]);
        // `url` beats `hosts`; its credentials replace the section's and never stay in the endpoint.
        let d = dcs_of(
            "etcd3: {url: 'https://u:s3cret@h:9/x', hosts: 'o:1', username: a, password: b}",
        )
        .unwrap();
        assert_eq!(d.endpoints, vec!["https://h:9"]);
        assert_eq!(
            (d.username.as_deref(), d.password.as_deref()),
            (Some("u"), Some("s3cret"))
        );
        let d = dcs_of("etcd3: {proxy: 'http://p:3', hosts: 'o:1'}").unwrap();
        assert_eq!(d.endpoints, vec!["http://p:3"]);
        assert!(d.use_proxies);
        assert!(
            dcs_of("etcd3: {hosts: 'h:1', use_proxies: true}")
                .unwrap()
                .use_proxies
        );
        // SRV cannot be resolved: fall back to hosts, else say so.
        let d = dcs_of("etcd3: {srv: example.org, hosts: 'h:1'}").unwrap();
        assert_eq!(d.endpoints, vec!["http://h:1"]);
        assert!(dcs_of("etcd3: {srv: example.org}")
            .unwrap_err()
            .contains("SRV"));
        assert_eq!(
            dcs_of("etcd3: {}").unwrap_err(),
            "Neither srv, hosts, host nor url are defined in etcd section of config"
        );
        assert!(dcs_of("etcd3: {hosts: 'h:x'}")
            .unwrap_err()
            .contains("'h:x'"));
        // A lone cert is a file holding the key too.
        let d = dcs_of("etcd3: {host: h, cert: /c.pem}").unwrap();
        assert_eq!(d.key, Some(PathBuf::from("/c.pem")));
    }

    #[test]
    fn zookeeper_section_hosts_env_and_dcs_url() {
        for yaml in [
            "zookeeper: {hosts: ['h1:2281', h2, '[::1]:7']}",
            "zookeeper: {hosts: ' h1:2281 ,h2,[::1]:7'}",
        ] {
            let d = dcs_of(yaml).unwrap();
            assert_eq!(d.kind, DcsKind::Zookeeper);
            assert_eq!(d.endpoints, vec!["h1:2281", "h2:2181", "[::1]:7"], "{yaml}");
        }
        // Alphabetical module order, as in Patroni: etcd3 wins over zookeeper when both are there.
        assert_eq!(
            dcs_of("zookeeper: {hosts: h}\netcd3: {hosts: e}")
                .unwrap()
                .kind,
            DcsKind::Etcd3
        );
        assert!(dcs_of("zookeeper: {hosts: 'h:1/chroot'}")
            .unwrap_err()
            .contains("chroot"));
        assert_eq!(
            dcs_of("zookeeper: {hosts: 'h:1/'}").unwrap().endpoints,
            vec!["h:1"]
        );
        assert!(dcs_of("zookeeper: {hosts: h, use_ssl: true}")
            .unwrap_err()
            .contains("use_ssl"));
        assert!(dcs_of("zookeeper: {hosts: h, auth_data: {digest: 'u:p'}}")
            .unwrap_err()
            .contains("auth_data"));
        assert!(dcs_of("zookeeper: {hosts: h, set_acls: {'CN=p': [ALL]}}")
            .unwrap_err()
            .contains("set_acls"));
        assert!(dcs_of("zookeeper: {hosts: []}")
            .unwrap_err()
            .contains("no server"));
        assert!(dcs_of("zookeeper: {hosts: 'h:x'}")
            .unwrap_err()
            .contains("'h:x'"));
        assert!(dcs_of("consul: {host: h}")
            .unwrap_err()
            .contains("'consul' DCS is not supported"));

        // PATRONI_ZOOKEEPER_HOSTS replaces the file's hosts, in both list forms.
        for value in ["'z1:1','z2:2'", "[z1:1, z2:2]"] {
            let mut env = BTreeMap::new();
            env.insert("PATRONI_ZOOKEEPER_HOSTS".to_string(), value.to_string());
            let mut raw = parse_yaml_mapping("zookeeper: {hosts: old:1}", "test").unwrap();
            patch(&mut raw, &environment_configuration(&env).unwrap());
            let d = resolve_dcs(&raw, Duration::from_secs(5)).unwrap();
            assert_eq!(d.endpoints, vec!["z1:1", "z2:2"], "{value}");
        }

        // -d zookeeper://host[:port][/namespace], and a bare host:2181, as patronictl's parse_dcs.
        let s = load_with_env(
            &srcs(None, Some("zookeeper://10.0.0.5/custom")),
            &BTreeMap::new(),
        )
        .unwrap();
        assert_eq!(s.dcs().unwrap().kind, DcsKind::Zookeeper);
        assert_eq!(s.dcs().unwrap().endpoints, vec!["10.0.0.5:2181"]);
        assert_eq!(s.namespace, "/custom");
        let s = load_with_env(&srcs(None, Some("zk1:2181")), &BTreeMap::new()).unwrap();
        assert_eq!(s.dcs().unwrap().endpoints, vec!["zk1:2181"]);
        assert_eq!(s.namespace, "/service/");
    }

    #[test]
    fn debug_never_shows_secrets() {
        let raw = parse_yaml_mapping(
            "etcd3: {host: h, username: u, password: Pw-etcd-1}\nctl: {authentication: {username: a, password: Pw-rest-2}, keyfile_password: Pw-key-3}\n",
            "test",
        )
        .unwrap();
        let s = resolve(raw, &srcs(None, None)).unwrap();
        let text = format!("{s:?} {:?} {:?}", s.dcs().unwrap(), s.rest);
        for secret in ["Pw-etcd-1", "Pw-rest-2", "Pw-key-3"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(text.contains("<redacted>"));
    }

    #[test]
    fn env_hosts_list_forms() {
        let mut env = BTreeMap::new();
        env.insert(
            "PATRONI_ETCD3_HOSTS".to_string(),
            "'h1:1','h2:2'".to_string(),
        );
        let m = environment_configuration(&env).unwrap();
        let hosts = get(&m, &["etcd3", "hosts"]).unwrap().as_sequence().unwrap();
        assert_eq!(hosts.len(), 2);
    }
}
