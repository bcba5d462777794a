//! Which members a rollout restarts, in which order, and why each is in or out: every member, or
//! those with a pending restart (`--pending`), those whose running PostgreSQL is older than a version
//! (`--older-than`, as `restart --pg-version`), those named (`--member`); replicas first in member
//! order, the leader last. Pure: the cluster and each member's reported server version in, the plan
//! out.

use std::collections::BTreeMap;

use crate::model::Cluster;
use crate::py::truth::truthy;

/// The selection flags.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only members with a pending restart.
    pub pending: bool,
    /// Only members whose server version (as `server_version`, e.g. 150004) is below this.
    pub older_than: Option<(String, i64)>,
    /// Only these members (empty: all).
    pub members: Vec<String>,
}

/// One member in the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The member name.
    pub name: String,
    /// Whether it holds the leader key.
    pub leader: bool,
    /// Whether the rollout restarts it.
    pub selected: bool,
    /// Why it is in or out.
    pub why: String,
}

/// Patroni's `postgres_version_to_int`: `X.Y.Z` (before 10) or `X.Y` (10 and later; a third part is
/// accepted as well) as `server_version_num`.
pub fn version_to_int(v: &str) -> Result<i64, String> {
    let parts: Vec<i64> = v
        .trim()
        .split('.')
        .map(|p| p.trim().parse::<i64>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("'{v}' is not a PostgreSQL version (X.Y or X.Y.Z)"))?;
    match parts.as_slice() {
        [major, minor] if *major >= 10 => Ok(major * 10_000 + minor),
        [major, minor, patch] if *major >= 10 => Ok(major * 10_000 + minor * 100 + patch),
        [major, minor, patch] => Ok(major * 10_000 + minor * 100 + patch),
        _ => Err(format!(
            "'{v}' is not a PostgreSQL version: X.Y or X.Y.Z is accepted (X.Y.Z before 10)"
        )),
    }
}

/// A `server_version` number as PostgreSQL writes its version (150004 → 15.4, 90603 → 9.6.3).
pub fn version_text(n: i64) -> String {
    if n >= 100_000 {
        format!("{}.{}", n / 10_000, n % 10_000)
    } else {
        format!("{}.{}.{}", n / 10_000, n / 100 % 100, n % 100)
    }
}

/// The plan: replicas in member order, then the leader; each with whether it is restarted and why.
/// `versions`: each member's `server_version` as its REST API reported it.
pub fn select(c: &Cluster, f: &Filter, versions: &BTreeMap<String, i64>) -> Vec<Entry> {
    let leader = c.leader_name();
    let mut order: Vec<&crate::model::Member> = c
        .members
        .iter()
        .filter(|m| Some(m.name.as_str()) != leader)
        .collect();
    order.extend(c.leader_member());
    order
        .into_iter()
        .map(|m| {
            let mut why = Vec::new();
            let mut out = None;
            if !f.members.is_empty() {
                if f.members.contains(&m.name) {
                    why.push("named by --member".to_string());
                } else {
                    out = Some("not named by --member".to_string());
                }
            }
            if f.pending && out.is_none() {
                if m.data.get("pending_restart").is_some_and(truthy) {
                    why.push("pending restart".into());
                } else {
                    out = Some("no pending restart".into());
                }
            }
            if let (Some((text, want)), None) = (&f.older_than, &out) {
                match versions.get(&m.name) {
                    Some(v) if v < want => {
                        why.push(format!("PostgreSQL {} older than {text}", version_text(*v)))
                    }
                    Some(v) => {
                        out = Some(format!(
                            "PostgreSQL {} not older than {text}",
                            version_text(*v)
                        ))
                    }
                    None => out = Some("PostgreSQL version unknown (REST API did not say)".into()),
                }
            }
            let (selected, why) = match out {
                Some(o) => (false, o),
                None if why.is_empty() => (true, "every member".to_string()),
                None => (true, why.join(", ")),
            };
            Entry {
                name: m.name.clone(),
                leader: Some(m.name.as_str()) == leader,
                selected,
                why,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::cluster;

    #[test]
    fn versions_as_patroni_reads_them() {
        assert_eq!(version_to_int("15.4"), Ok(150004));
        assert_eq!(version_to_int("15.4.0"), Ok(150400));
        assert_eq!(version_to_int("9.6.3"), Ok(90603));
        assert!(version_to_int("9.6").is_err());
        assert!(version_to_int("x").is_err());
        assert_eq!(version_text(150004), "15.4");
        assert_eq!(version_text(90603), "9.6.3");
    }

    #[test]
    fn replicas_first_leader_last_with_reasons() {
        let c = cluster(&[
            ("leader", "b"),
            ("members/a", r#"{"state":"running","pending_restart":true}"#),
            ("members/b", r#"{"state":"running","pending_restart":true}"#),
            ("members/c", r#"{"state":"running"}"#),
        ]);
        let all = select(&c, &Filter::default(), &BTreeMap::new());
        let names: Vec<&str> = all.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["a", "c", "b"]);
        assert!(all.iter().all(|e| e.selected) && all[2].leader);
        let pending = select(
            &c,
            &Filter {
                pending: true,
                ..Filter::default()
            },
            &BTreeMap::new(),
        );
        assert_eq!(pending[1].why, "no pending restart");
        assert!(pending[0].selected && !pending[1].selected && pending[2].selected);
        let versions = BTreeMap::from([("a".to_string(), 150003), ("b".to_string(), 150004)]);
        let older = select(
            &c,
            &Filter {
                older_than: Some(("15.4".into(), 150004)),
                members: vec!["a".into(), "b".into()],
                ..Filter::default()
            },
            &versions,
        );
        assert_eq!(
            older[0].why,
            "named by --member, PostgreSQL 15.3 older than 15.4"
        );
        assert_eq!(older[1].why, "not named by --member");
        assert_eq!(older[2].why, "PostgreSQL 15.4 not older than 15.4");
    }
}
