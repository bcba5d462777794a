//! `doctor`'s view of each etcd v3 endpoint: the maintenance `Status` call, the member list and a
//! count-only read, each endpoint asked on its own connection.

use super::*;

/// Every configured endpoint's status (`doctor`): connect to each on its own (authenticating as the
/// client does), then the maintenance `Status` call, the member list, and a count-only read of
/// `probe_key` to see that the credentials (or their absence) are accepted.
pub(in crate::dcs) async fn statuses(
    settings: &DcsSettings,
    probe_key: &str,
    budget: Duration,
) -> Vec<crate::dcs::status::EndpointStatus> {
    use crate::dcs::status::{each, EndpointStatus};
    let connector = match Connector::new(settings) {
        Ok(c) => c,
        Err(e) => return EndpointStatus::all_unreachable(&settings.endpoints, &e.message),
    };
    let connector = &connector;
    each(&settings.endpoints, budget, |ep| async move {
        endpoint_status(connector, ep, probe_key, budget).await
    })
    .await
}

async fn endpoint_status(
    connector: &Connector,
    ep: &str,
    probe_key: &str,
    budget: Duration,
) -> crate::dcs::status::EndpointStatus {
    use crate::dcs::status::{Auth, EndpointStatus};
    let mut client = match connector.open(ep, budget).await {
        Ok((client, _)) => client,
        Err(Miss::Fatal(e)) if e.message.contains("authentication") => {
            // It answered, and refused the user.
            let mut s = EndpointStatus::new(ep);
            s.auth = Auth::Refused(e.message);
            return s;
        }
        Err(Miss::Fatal(e)) => return EndpointStatus::unreachable(ep, e.message, Duration::ZERO),
        Err(Miss::NotSent(why) | Miss::MaybeSent(why)) => {
            return EndpointStatus::unreachable(ep, why, Duration::ZERO)
        }
    };
    let mut s = EndpointStatus::new(ep);
    let user = connector.user.as_ref();
    match client.status().await {
        Ok(st) => {
            s.version = Some(format!("etcd {}", st.version()));
            let me = st.header().map(|h| h.member_id());
            s.errors = st.errors().to_vec();
            let leader = st.leader();
            s.quorum = Some(leader != 0);
            s.quorum_note = format!("raft term {}", st.raft_term());
            s.is_leader = me.map(|id| id == leader && leader != 0);
            let names: Vec<(u64, String)> = match client.member_list().await {
                Ok(list) => list
                    .members()
                    .iter()
                    .map(|m| (m.id(), m.name().to_string()))
                    .collect(),
                Err(_) => Vec::new(),
            };
            let name_of = |id: u64| {
                names
                    .iter()
                    .find(|(i, _)| *i == id)
                    .map(|(_, n)| n.clone())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| format!("{id:x}"))
            };
            s.name = me.map(name_of);
            s.leader = (leader != 0).then(|| name_of(leader));
            s.members = names.iter().map(|(id, _)| name_of(*id)).collect();
        }
        Err(e) => match classify(&e, user) {
            Miss::Fatal(err) => s.errors.push(err.message),
            Miss::NotSent(why) | Miss::MaybeSent(why) => {
                return EndpointStatus::unreachable(ep, why, Duration::ZERO)
            }
        },
    }
    let read = client
        .get(
            probe_key,
            Some(GetOptions::new().with_prefix().with_count_only()),
        )
        .await;
    s.auth = match (read, user) {
        (Ok(_), Some((u, _))) => Auth::Accepted(u.clone()),
        (Ok(_), None) => Auth::Anonymous,
        (Err(e), _) => match classify(&e, user) {
            Miss::Fatal(err) => Auth::Refused(err.message),
            Miss::NotSent(why) | Miss::MaybeSent(why) => Auth::Unchecked(why.into()),
        },
    };
    s
}
