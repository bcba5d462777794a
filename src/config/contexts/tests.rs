//! Unit tests of the contexts file: parsing, choosing, resolving and writing the current context.
use super::*;

const FILE: &str = "# my clusters\ncurrent: prod\ncontexts:\n  prod:\n    config_file: /etc/patroni/patroni.yml\n  staging:\n    dcs_url: etcd3://10.0.0.5:2379\n    namespace: /ns/\n    scope: st\n    username: admin\n    password: s3cret\n    insecure: on\n    request_timeout: 2.5\n";

fn file() -> ContextFile {
    parse(FILE, Path::new("/x/contexts.yaml")).unwrap()
}

fn given(c: Option<&str>, d: Option<&str>) -> Sources {
    Sources {
        config_file: c.map(PathBuf::from),
        dcs_url: d.map(String::from),
        insecure: false,
        timeout: Duration::from_secs(5),
    }
}

#[test]
fn parses_and_never_shows_the_password() {
    let f = file();
    assert_eq!(f.current.as_deref(), Some("prod"));
    assert_eq!(f.names(), "prod, staging");
    let st = f.get("staging").unwrap();
    assert_eq!(st.insecure, Some(true));
    assert_eq!(st.request_timeout, Some(Duration::from_millis(2500)));
    assert!(!format!("{st:?}").contains("s3cret"));
    for (text, why) in [
        ("contexts: {a: {dsc_url: x}}", "unknown key 'dsc_url'"),
        ("contexts: [a]", "'contexts' must be a mapping"),
        ("cur: a", "unknown key 'cur'"),
        ("contexts: {a: {request_timeout: 0}}", "request_timeout"),
        ("contexts: {a: [1]}", "must be a mapping"),
    ] {
        let e = parse(text, Path::new("/c.yaml")).unwrap_err();
        assert!(e.message.contains(why), "{text}: {}", e.message);
        assert!(e.message.starts_with("/c.yaml: "), "{}", e.message);
    }
}

#[test]
fn selection_flag_then_env_then_current() {
    let f = file();
    let p = Path::new("/x/contexts.yaml");
    let name = |r: Option<(&ContextDef, ChosenBy)>| r.map(|(c, by)| (c.name.clone(), by));
    assert_eq!(
        name(choose(Some(&f), p, Some("staging"), Some("prod")).unwrap()),
        Some(("staging".into(), ChosenBy::Flag))
    );
    assert_eq!(
        name(choose(Some(&f), p, None, Some("staging")).unwrap()),
        Some(("staging".into(), ChosenBy::Env))
    );
    assert_eq!(
        name(choose(Some(&f), p, None, Some("")).unwrap()),
        Some(("prod".into(), ChosenBy::Current))
    );
    let e = choose(Some(&f), p, Some("nope"), None).unwrap_err();
    assert_eq!(e.exit, crate::error::Exit::Usage);
    assert_eq!(
        e.message,
        "no context 'nope' in /x/contexts.yaml (contexts: prod, staging)"
    );
    assert!(choose(None, p, None, None).unwrap().is_none());
    let e = choose(None, p, Some("a"), None).unwrap_err();
    assert!(e
        .message
        .contains("there is no contexts file at /x/contexts.yaml"));
}

#[test]
fn explicit_sources_win() {
    let f = file();
    let st = f.get("staging").unwrap();
    let s = st.sources(&given(None, None), false);
    assert_eq!(s.dcs_url.as_deref(), Some("etcd3://10.0.0.5:2379"));
    assert!(s.insecure);
    assert_eq!(s.timeout, Duration::from_millis(2500));
    let s = st.sources(&given(Some("/mine.yml"), None), true);
    assert_eq!(s.config_file.as_deref(), Some(Path::new("/mine.yml")));
    assert_eq!(s.dcs_url, None, "-c replaces the context's source");
    assert_eq!(s.timeout, Duration::from_secs(5));
}

#[test]
fn resolve_reads_the_file_named_by_the_environment() {
    let dir = std::env::temp_dir().join(format!("patctl-ctx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("contexts.yaml");
    std::fs::write(&p, FILE).unwrap();
    let private = std::os::unix::fs::PermissionsExt::from_mode(0o600);
    std::fs::set_permissions(&p, private).unwrap();
    let mut env = BTreeMap::new();
    env.insert("PATCTL_CONTEXTS".to_string(), p.display().to_string());
    let (s, c) = resolve(&given(None, None), false, None, &env).unwrap();
    assert_eq!(c.unwrap().name, "prod");
    assert_eq!(
        s.config_file.as_deref(),
        Some(Path::new("/etc/patroni/patroni.yml"))
    );
    // -c with only `current`: the context is not used.
    let (s, c) = resolve(&given(Some("/a.yml"), None), false, None, &env).unwrap();
    assert!(c.is_none() && s.config_file.as_deref() == Some(Path::new("/a.yml")));
    // -c with --context: the context's other settings stay.
    let (_, c) = resolve(&given(Some("/a.yml"), None), false, Some("staging"), &env).unwrap();
    assert_eq!(c.unwrap().scope.as_deref(), Some("st"));
    // `context use`: only the current line changes.
    write_current(&p, FILE, "staging").unwrap();
    let text = std::fs::read_to_string(&p).unwrap();
    assert_eq!(text, FILE.replace("current: prod", "current: staging"));
    write_current(&p, "contexts: {}\n", "we ird").unwrap();
    let text = std::fs::read_to_string(&p).unwrap();
    assert_eq!(text, "current: \"we ird\"\ncontexts: {}\n");
    assert_eq!(parse(&text, &p).unwrap().current.as_deref(), Some("we ird"));
    std::fs::remove_dir_all(&dir).unwrap();
}
