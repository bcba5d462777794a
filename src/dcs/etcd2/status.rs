//! `doctor`'s view of each etcd v2 endpoint: `/version`, `/v2/stats/self`, `/v2/members` and a read
//! of the namespace, each endpoint asked on its own.

use super::*;

/// Every configured endpoint's status (`doctor`): `GET /version`, `/v2/stats/self` (state and leader),
/// `/v2/members` (names), and a read of `probe_key` to see that the credentials are accepted.
pub(in crate::dcs) async fn statuses(
    settings: &DcsSettings,
    probe_key: &str,
    budget: Duration,
) -> Vec<crate::dcs::status::EndpointStatus> {
    use crate::dcs::status::{each, EndpointStatus};
    let http = match http_client(settings) {
        Ok(h) => h,
        Err(e) => return EndpointStatus::all_unreachable(&settings.endpoints, &e.message),
    };
    let auth = match (&settings.username, &settings.password) {
        (Some(u), Some(p)) => Some((u.clone(), p.clone())),
        _ => None,
    };
    let (http, auth) = (&http, auth.as_ref());
    each(&settings.endpoints, budget, |ep| async move {
        endpoint_status(http, auth, ep, probe_key, budget).await
    })
    .await
}

async fn endpoint_status(
    http: &HttpClient,
    auth: Option<&(String, String)>,
    ep: &str,
    probe_key: &str,
    budget: Duration,
) -> crate::dcs::status::EndpointStatus {
    use crate::dcs::status::{Auth, EndpointStatus};
    let get = |path: String| async move {
        let r = http
            .send(Method::GET, &format!("{ep}{path}"), auth, &[], None, budget)
            .await;
        r.map(|r| {
            let body = serde_json::from_str::<Value>(&r.body).unwrap_or(Value::Null);
            (r.status, body)
        })
    };
    let key = format!("/v2/keys{}", probe_key.trim_end_matches('/'));
    let (version, me, members, read) = tokio::join!(
        get("/version".into()),
        get("/v2/stats/self".into()),
        get("/v2/members".into()),
        get(key)
    );
    let (_, version) = match version {
        Ok(v) => v,
        Err(e) => {
            let why = match e {
                HttpError::Timeout => Attempts::no_answer(budget),
                HttpError::Connect(w) | HttpError::Other(w) => tidy_reason(&w),
            };
            return EndpointStatus::unreachable(ep, why, Duration::ZERO);
        }
    };
    let mut s = EndpointStatus::new(ep);
    s.version = version
        .get("etcdserver")
        .and_then(Value::as_str)
        .map(|v| format!("etcd {v}"));
    let names: Vec<(String, String)> = match members {
        Ok((st, body)) if st.is_success() => body
            .get("members")
            .and_then(Value::as_array)
            .map(|ms| {
                ms.iter()
                    .map(|m| {
                        let field = |k| m.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                        (field("id"), field("name"))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let name_of = |id: &str| {
        names
            .iter()
            .find(|(i, n)| i == id && !n.is_empty())
            .map_or_else(|| id.to_string(), |(_, n)| n.clone())
    };
    s.members = names.iter().map(|(id, _)| name_of(id)).collect();
    if let Ok((st, body)) = me {
        if st.is_success() {
            let state = body.get("state").and_then(Value::as_str).unwrap_or("");
            let leader = body
                .pointer("/leaderInfo/leader")
                .and_then(Value::as_str)
                .filter(|l| !l.is_empty());
            s.name = body.get("name").and_then(Value::as_str).map(String::from);
            s.is_leader = Some(state == "StateLeader");
            s.leader = leader.map(name_of);
            s.quorum = Some(leader.is_some() && matches!(state, "StateLeader" | "StateFollower"));
            s.quorum_note = format!("state {}", state.trim_start_matches("State"));
        }
    }
    s.auth = match read {
        Ok((st, _)) if st == StatusCode::UNAUTHORIZED || st == StatusCode::FORBIDDEN => {
            Auth::Refused(match auth {
                Some((u, _)) => format!("user '{u}' refused (HTTP {})", st.as_u16()),
                None => format!(
                    "anonymous read refused (HTTP {}): set username and password",
                    st.as_u16()
                ),
            })
        }
        Ok((st, _)) if st.is_success() || st == StatusCode::NOT_FOUND => match auth {
            Some((u, _)) => Auth::Accepted(u.clone()),
            None => Auth::Anonymous,
        },
        Ok((st, body)) => {
            Auth::Unchecked(format!("HTTP {}: {}", st.as_u16(), etcd_message(&body, "")))
        }
        Err(_) => Auth::Unchecked("the read got no answer".into()),
    };
    s
}
