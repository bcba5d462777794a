//! The DCS part of the configuration: patronictl's `parse_dcs` for `-d/--dcs-url`, and the
//! `etcd:`/`etcd3:`/`zookeeper:` sections resolved to endpoints as Patroni resolves them.

use super::*;

/// The DCS schemes patronictl knows, with their default ports, in patronictl's lookup order.
pub(super) const DCS_DEFAULTS: [(&str, u16); 5] = [
    ("zookeeper", 2181),
    ("exhibitor", 8181),
    ("consul", 8500),
    ("etcd", 2379),
    ("etcd3", 2379),
];

/// DCS modules in the order Patroni tries them (alphabetical); the first with a config section wins.
pub(super) const DCS_MODULES: [&str; 7] = [
    "consul",
    "etcd",
    "etcd3",
    "exhibitor",
    "kubernetes",
    "raft",
    "zookeeper",
];

/// The DCS sections patctl can use (the others are refused with a clear message).
pub(super) const SUPPORTED_DCS: [&str; 3] = ["etcd", "etcd3", "zookeeper"];

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
            section.insert("hosts".into(), Value::Array(vec![hostport.into()]));
        }
        "exhibitor" => {
            section.insert("hosts".into(), Value::Array(vec![host.into()]));
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
    ret.insert(scheme, Value::Object(section));
    if !path.trim().is_empty() && path.trim() != "/" {
        ret.insert("namespace".into(), path.trim().into());
    }
    Ok(ret)
}

pub(super) fn resolve_dcs(
    raw: &Mapping,
    timeout: Duration,
) -> std::result::Result<DcsSettings, String> {
    let Some(module) = DCS_MODULES
        .iter()
        .find(|m| matches!(raw.get(**m), Some(Value::Object(_))))
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
    let Some(Value::Object(section)) = raw.get(*module) else {
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
pub(super) fn zookeeper_hosts(section: &Mapping) -> std::result::Result<Vec<String>, String> {
    if section.get("use_ssl").is_some_and(truthy) {
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
        Some(Value::Array(seq)) => seq
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
pub(super) struct EtcdEndpoints {
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
pub(super) fn resolve_etcd_endpoints(
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
    let mut password = super::secret::password(section, module)
        .map_err(|e| e.message)?
        .filter(|p| !p.is_empty());
    let proxy = get_str(section, &["proxy"]);
    let use_proxies = proxy.is_some() || section.get("use_proxies").is_some_and(truthy);
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
            Value::Array(seq) => seq.iter().filter_map(scalar_string).collect(),
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
pub(super) fn host_endpoint(
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
pub(super) fn split_host_port(
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
pub(super) fn endpoint_uri(protocol: &str, host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("{protocol}://[{host}]:{port}")
    } else {
        format!("{protocol}://{host}:{port}")
    }
}

/// Split `scheme://[user[:password]@]host[:port][/path]` into the endpoint (without credentials or path,
/// port 2379 by default) and the credentials.
pub(super) fn split_url(url: &str) -> Option<(String, Option<String>, Option<String>)> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::srcs;
    use std::collections::BTreeMap;

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
            patch_config(&mut raw, &environment_configuration(&env).unwrap());
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
}
