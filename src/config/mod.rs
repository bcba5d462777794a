//! Configuration discovery and loading, mirroring patronictl's `load_config`, `parse_dcs` and Patroni's
//! `Config` (file or directory of YAML files, `PATRONI_CONFIGURATION`, `PATRONI_*` overrides, `-d/--dcs-url`).
//!
//! YAML is read by [`crate::py::yaml_load`] with PyYAML's `safe_load` rules (`on` is true, `'on'` a
//! string), so every value means what it means to Patroni, and [`truthy`] is Python's `bool()`.
//!
//! `env.rs` holds the `PATRONI_*` overrides, `dcs.rs` the DCS part (`-d/--dcs-url`, the
//! `etcd:`/`etcd3:`/`zookeeper:` sections).
//!
//! The result is a [`Settings`]: the raw merged YAML (kept for `ctl:`/`restapi:` lookups) plus the
//! resolved pieces every command needs: scope, namespace, the DCS endpoints and the REST client options.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::py::repr::py_str;
use crate::py::truth::truthy;
use crate::py::yaml_load;

pub mod contexts;
mod dcs;
mod env;
pub mod secret;

pub use dcs::parse_dcs_url;
use dcs::*;
pub use env::parse_bool_str;
use env::*;

/// A YAML mapping as `yaml.safe_load` gives it (keys are strings, as Patroni's config keys are).
pub type Mapping = Map<String, Value>;

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
    /// The setting `auth` came from (`ctl.authentication`, `ctl.auth`, `restapi.authentication`), for
    /// the hint of a refused request.
    pub auth_key: Option<&'static str>,
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
            .field("auth_key", &self.auth_key)
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
    patch_config(&mut config, &env_config);

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
                .with_source(e)
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
            patch_config(&mut merged, &doc);
        }
        Ok(merged)
    } else {
        load_file(path)
    }
}

fn load_file(path: &Path) -> Result<Mapping> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::usage(format!("cannot read config file {}: {e}", path.display())).with_source(e)
    })?;
    let m = parse_yaml_mapping(&text, &path.display().to_string())?;
    if secret::holds_secret(&m) {
        secret::require_private(path, "a password")?;
    }
    Ok(m)
}

/// Parse a YAML document that must be a mapping (or empty); errors name the source and line.
pub fn parse_yaml_mapping(text: &str, source: &str) -> Result<Mapping> {
    let value = yaml_load::load(text).map_err(|e| {
        let at = e
            .location
            .map(|(line, column)| format!(" at line {line} column {column}"))
            .unwrap_or_default();
        Error::usage(format!(
            "malformed YAML in {source}{at}: {}",
            first_line(&e.message)
        ))
        .with_source(e)
    })?;
    match value {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Mapping::new()),
        _ => Err(Error::usage(format!(
            "malformed config in {source}: the top level must be a mapping"
        ))),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// Patroni's `utils.patch_config` (patronictl's edit-config uses it too): null deletes, dicts merge recursively, other values are
/// replaced when their `str()` differs, new keys are appended.
pub fn patch_config(config: &mut Map<String, Value>, data: &Map<String, Value>) {
    for (name, value) in data {
        match value {
            Value::Null => {
                config.shift_remove(name);
            }
            Value::Object(sub) => match config.get_mut(name) {
                Some(Value::Object(cur)) => patch_config(cur, sub),
                _ => {
                    config.insert(name.clone(), value.clone());
                }
            },
            _ => match config.get(name) {
                Some(cur) if py_str(cur) == py_str(value) => {}
                _ => {
                    config.insert(name.clone(), value.clone());
                }
            },
        }
    }
}

fn get<'a>(m: &'a Mapping, path: &[&str]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let v = m.get(*first)?;
    if rest.is_empty() {
        Some(v)
    } else {
        get(v.as_object()?, rest)
    }
}

/// A scalar config value as a string (YAML may give a number or bool where a string is meant).
pub fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => Some(py_str(v)),
        _ => None,
    }
}

fn get_str(m: &Mapping, path: &[&str]) -> Option<String> {
    get(m, path)
        .and_then(scalar_string)
        .filter(|s| !s.is_empty())
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

fn resolve_rest(raw: &Mapping, sources: &Sources) -> Result<RestSettings> {
    let auth_of = |section: &str| -> Result<Option<(String, String)>> {
        match get(raw, &[section, "authentication"]) {
            Some(Value::Object(a)) => {
                let user = a.get("username").and_then(scalar_string);
                let pass = secret::password(a, &format!("{section}.authentication"))?;
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
    let (auth, auth_key) = match auth_of("ctl")? {
        Some(a) => (Some(a), "ctl.authentication"),
        None => match get_str(raw, &["ctl", "auth"]) {
            Some(s) => (
                s.split_once(':')
                    .map(|(u, p)| (u.to_string(), p.to_string())),
                "ctl.auth",
            ),
            None => (auth_of("restapi")?, "restapi.authentication"),
        },
    };
    Ok(RestSettings {
        auth_key: auth.is_some().then_some(auth_key),
        auth,
        insecure: sources.insecure || get(raw, &["ctl", "insecure"]).is_some_and(truthy),
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

    pub(super) fn srcs(file: Option<&str>, url: Option<&str>) -> Sources {
        Sources {
            config_file: file.map(PathBuf::from),
            dcs_url: url.map(String::from),
            insecure: false,
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn env_overrides_file_and_missing_file_is_named() {
        let dir = std::env::temp_dir().join(format!("patctl-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("p.yml");
        std::fs::write(&f, "scope: a\nnamespace: /ns/\netcd3:\n  hosts: 127.0.0.1:2379\nrestapi:\n  authentication: {username: r, password: r}\n").unwrap();
        // It holds a password: private to its owner, or refused.
        std::fs::set_permissions(&f, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
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
    fn patch_config_as_patroni() {
        use serde_json::json;
        let mut c = json!({"ttl": 30, "postgresql": {"parameters": {"a": 1}}, "x": 1})
            .as_object()
            .cloned()
            .unwrap();
        patch_config(
            &mut c,
            json!({"ttl": "30", "postgresql": {"parameters": {"b": 2}}, "x": null, "new": 1})
                .as_object()
                .unwrap(),
        );
        assert_eq!(
            Value::Object(c),
            json!({"ttl": 30, "postgresql": {"parameters": {"a": 1, "b": 2}}, "new": 1})
        );
    }
}
