//! The PostgreSQL major version a cluster runs, for checking `edit-config`'s parameters against that
//! major's own parameter list (a patctl addition: patronictl's `edit-config` asks no member).
//!
//! Patroni's member keys do not carry the PostgreSQL version, so each member's REST API is asked
//! (`GET /patroni`, its `server_version`), all at once and bounded by the request timeout. The
//! leader's answer wins; when no member answers, [`pg_params::DEFAULT_MAJOR`] is used with a warning.

use serde_json::Value;

use super::pg_params;
use crate::api::Method;
use crate::commands::fanout;
use crate::context::Context;
use crate::model::Cluster;

/// The major from a `server_version` number (`150018` is 15, `90624` is 9).
pub fn major_of(server_version: i64) -> Option<u32> {
    match server_version {
        v if v >= 100_000 => u32::try_from(v / 10_000).ok(),
        v if v >= 90_000 => Some(9),
        _ => None,
    }
}

/// The major to check against, whether it is the cluster's own (a major the table covers, reported
/// by a member), and the warnings to show.
pub async fn cluster_major(ctx: &mut Context<'_>, cluster: &Cluster) -> (u32, bool, Vec<String>) {
    let mut members: Vec<_> = cluster
        .members
        .iter()
        .filter(|m| m.api_url().is_some())
        .collect();
    // The leader first: its answer is the one used when members differ (an upgrade under way).
    members.sort_by_key(|m| Some(m.name.as_str()) != cluster.leader_name());
    let answers = match ctx.api() {
        Ok(api) => {
            fanout::join_all(
                members
                    .iter()
                    .map(|m| api.request(m, Method::GET, "", None, None)),
            )
            .await
        }
        Err(_) => Vec::new(),
    };
    let majors: Vec<(String, u32)> = members
        .iter()
        .zip(answers)
        .filter_map(|(m, a)| {
            let v = a
                .ok()?
                .json()
                .get("server_version")
                .and_then(Value::as_i64)?;
            Some((m.name.clone(), major_of(v)?))
        })
        .collect();
    choose(&majors)
}

/// The major from the members' answers (leader first), whether it is exact, and what to warn
/// about. When it is not, names the table does not know are not refused (they may be the
/// cluster's own major's).
pub fn choose(majors: &[(String, u32)]) -> (u32, bool, Vec<String>) {
    let mut warnings = Vec::new();
    let Some((first_name, first)) = majors.first() else {
        let d = pg_params::DEFAULT_MAJOR;
        return (
            d,
            false,
            vec![format!(
                "no member reported its PostgreSQL version: parameters checked against PostgreSQL {d} (unknown names not refused)"
            )],
        );
    };
    let mut others: Vec<String> = majors
        .iter()
        .filter(|(_, m)| m != first)
        .map(|(n, m)| format!("{n} runs PostgreSQL {m}"))
        .collect();
    if !others.is_empty() {
        others.sort();
        warnings.push(format!(
            "members run different PostgreSQL majors ({}): parameters checked against {first_name}'s PostgreSQL {first}",
            others.join(", ")
        ));
    }
    let range = pg_params::MAJORS;
    let used = (*first).clamp(*range.start(), *range.end());
    if used != *first {
        warnings.push(format!(
            "patctl knows the parameters of PostgreSQL {} to {}: PostgreSQL {first}'s are checked as PostgreSQL {used}'s (unknown names not refused)",
            range.start(),
            range.end()
        ));
    }
    (used, used == *first, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majors_and_fallbacks() {
        assert_eq!(major_of(150018), Some(15));
        assert_eq!(major_of(170002), Some(17));
        assert_eq!(major_of(90624), Some(9));
        assert_eq!(major_of(0), None);
        assert_eq!(
            choose(&[("a".into(), 16), ("b".into(), 16)]),
            (16, true, vec![])
        );
        let (m, exact, w) = choose(&[]);
        assert_eq!((m, exact), (pg_params::DEFAULT_MAJOR, false));
        assert!(w[0].starts_with("no member reported"), "{w:?}");
        let (m, exact, w) = choose(&[("node1".into(), 16), ("node2".into(), 17)]);
        assert_eq!((m, exact), (16, true));
        assert!(w[0].contains("node2 runs PostgreSQL 17"), "{w:?}");
        let (m, exact, w) = choose(&[("node1".into(), 12)]);
        assert_eq!((m, exact, w.len()), (13, false, 1));
        let (m, exact, _) = choose(&[("node1".into(), 18)]);
        assert_eq!((m, exact), (17, false));
    }
}
