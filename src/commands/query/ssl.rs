//! libpq's SSL rules for `query`, so that patctl connects over TLS exactly when psycopg2 (libpq) would,
//! with the same files and the same verification.
//!
//! The settings come from the member's connection parameters as patronictl builds them (`sslmode`,
//! `sslrootcert`, `sslcert`, `sslkey`, `sslpassword`), else libpq's environment (`PGSSLMODE`,
//! `PGSSLROOTCERT`, `PGSSLCERT`, `PGSSLKEY`), else libpq's defaults: `prefer`, and
//! `~/.postgresql/{root.crt,postgresql.crt,postgresql.key}`. As in libpq: a root certificate file that
//! exists turns verification of the server's chain on in every mode (so `require` then acts as
//! `verify-ca`); `verify-ca`/`verify-full` without one is an error; `verify-full` also checks the host
//! name; the client certificate is sent when its file exists, and then its key must exist too; `prefer`
//! falls back to a plain connection when TLS fails, `allow` tries plain first.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
use openssl::x509::store::X509StoreBuilder;
use postgres_openssl::MakeTlsConnector;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_postgres::config::SslMode as PgSslMode;
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};

use crate::tls;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// No TLS.
    Disable,
    /// Plain first, TLS when the server refuses plain.
    Allow,
    /// TLS first, plain when TLS fails (libpq's default).
    Prefer,
    /// TLS only.
    Require,
    /// TLS, the server's chain verified.
    VerifyCa,
    /// TLS, chain and host name verified.
    VerifyFull,
}

/// How much of the server certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// Nothing (no root certificate file, mode below `verify-ca`).
    None,
    /// The chain against the root certificate file.
    Chain,
    /// The chain and the host name.
    Full,
}

/// The resolved settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SslPlan {
    /// The mode as given.
    pub mode: SslMode,
    /// What is verified when TLS is used.
    pub verify: Verify,
    /// The root certificate file (`None`: not used; `system`: the system's trust store).
    pub rootcert: Option<PathBuf>,
    /// The client certificate and key files, when a certificate is sent.
    pub client: Option<(PathBuf, PathBuf)>,
    /// `sslpassword`, for an encrypted key.
    pub password: Option<String>,
}

/// One connection attempt: the tokio-postgres mode to use.
pub type Attempt = PgSslMode;

impl SslPlan {
    /// The attempts libpq makes, in order.
    pub fn attempts(&self) -> Vec<Attempt> {
        match self.mode {
            SslMode::Disable => vec![PgSslMode::Disable],
            SslMode::Allow => vec![PgSslMode::Disable, PgSslMode::Require],
            // The second attempt only when the server took TLS (see `Tracked`).
            SslMode::Prefer => vec![PgSslMode::Prefer, PgSslMode::Disable],
            _ => vec![PgSslMode::Require],
        }
    }

    /// The OpenSSL connector for the TLS attempts (reads and decrypts the files).
    pub fn connector(&self) -> Result<Tracked, String> {
        let setup = |e: openssl::error::ErrorStack| {
            format!("could not set up SSL: {}", tls::reason_of_stack(&e))
        };
        let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(setup)?;
        if self.verify == Verify::None {
            b.set_verify(SslVerifyMode::NONE);
        } else {
            b.set_verify(SslVerifyMode::PEER);
            match &self.rootcert {
                Some(p) if p.as_os_str() == "system" => {}
                Some(p) => {
                    let mut store = X509StoreBuilder::new().map_err(setup)?;
                    let certs = tls::load_ca(p, "root certificate file")
                        .map_err(|e| format!("could not read {}", e.message))?;
                    for c in certs {
                        store.add_cert(c).map_err(setup)?;
                    }
                    b.set_cert_store(store.build());
                }
                None => {}
            }
        }
        if let Some((cert, key)) = &self.client {
            let cc = tls::load_client_cert(
                cert,
                Some(key),
                self.password.as_deref(),
                Some("sslpassword"),
                "client",
            )
            .map_err(|e| e.message)?;
            b.set_certificate(&cc.chain[0]).map_err(setup)?;
            for extra in cc.chain.iter().skip(1) {
                b.add_extra_chain_cert(extra.clone()).map_err(setup)?;
            }
            b.set_private_key(&cc.key).map_err(setup)?;
        }
        let mut m = MakeTlsConnector::new(b.build());
        let full = self.verify == Verify::Full;
        m.set_callback(move |c, _host| {
            c.set_verify_hostname(full);
            Ok(())
        });
        Ok(Tracked {
            inner: m,
            used: Arc::new(AtomicBool::new(false)),
        })
    }
}

/// The OpenSSL connector for tokio-postgres, noting whether a TLS handshake was started (the server
/// accepted SSL): libpq's `prefer` tries again without TLS only then.
#[derive(Clone)]
pub struct Tracked {
    inner: MakeTlsConnector,
    /// Set when a handshake starts.
    pub used: Arc<AtomicBool>,
}

impl<S> MakeTlsConnect<S> for Tracked
where
    S: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Sync + Send + 'static,
{
    type Stream = postgres_openssl::TlsStream<S>;
    type TlsConnect = TrackedConnect;
    type Error = openssl::error::ErrorStack;

    fn make_tls_connect(&mut self, domain: &str) -> Result<TrackedConnect, Self::Error> {
        Ok(TrackedConnect {
            inner: <MakeTlsConnector as MakeTlsConnect<S>>::make_tls_connect(
                &mut self.inner,
                domain,
            )?,
            used: self.used.clone(),
        })
    }
}

/// One handshake of [`Tracked`].
pub struct TrackedConnect {
    inner: postgres_openssl::TlsConnector,
    used: Arc<AtomicBool>,
}

impl<S> TlsConnect<S> for TrackedConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = postgres_openssl::TlsStream<S>;
    type Error = Box<dyn std::error::Error + Send + Sync>;
    type Future = <postgres_openssl::TlsConnector as TlsConnect<S>>::Future;

    fn connect(self, stream: S) -> Self::Future {
        self.used.store(true, Ordering::SeqCst);
        self.inner.connect(stream)
    }
}

/// Resolve the settings. `get` looks a parameter up (connection parameters, then the environment:
/// `sslmode` → `PGSSLMODE`, …); `home` is the user's home directory; `exists` says whether a file
/// exists (kept apart so the rules can be tested without files).
pub fn resolve(
    get: &dyn Fn(&str) -> Option<String>,
    home: Option<&Path>,
    exists: &dyn Fn(&Path) -> bool,
) -> Result<SslPlan, String> {
    let mode = match get("sslmode").as_deref().unwrap_or("prefer") {
        "disable" => SslMode::Disable,
        "allow" => SslMode::Allow,
        "prefer" => SslMode::Prefer,
        "require" => SslMode::Require,
        "verify-ca" => SslMode::VerifyCa,
        "verify-full" => SslMode::VerifyFull,
        other => return Err(format!("invalid sslmode value: \"{other}\"")),
    };
    let default = |name: &str| home.map(|h| h.join(".postgresql").join(name));
    let mut plan = SslPlan {
        mode,
        verify: Verify::None,
        rootcert: None,
        client: None,
        password: get("sslpassword"),
    };
    if mode == SslMode::Disable {
        return Ok(plan);
    }
    let root = get("sslrootcert")
        .map(PathBuf::from)
        .or_else(|| default("root.crt"));
    match root {
        Some(r) if r.as_os_str() == "system" || exists(&r) => {
            plan.rootcert = Some(r);
            plan.verify = Verify::Chain;
        }
        r if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) => {
            let shown = r.map(|p| p.display().to_string()).unwrap_or_default();
            return Err(format!(
                "root certificate file \"{shown}\" does not exist\nEither provide the file, use the system's trusted roots with sslrootcert=system, or change sslmode to disable server certificate verification."
            ));
        }
        _ => {}
    }
    if mode == SslMode::VerifyFull {
        plan.verify = Verify::Full;
    }
    let cert = get("sslcert")
        .map(PathBuf::from)
        .or_else(|| default("postgresql.crt"));
    if let Some(cert) = cert.filter(|c| exists(c)) {
        let key = get("sslkey")
            .map(PathBuf::from)
            .or_else(|| default("postgresql.key"));
        match key.filter(|k| exists(k)) {
            Some(key) => plan.client = Some((cert, key)),
            None => {
                return Err(format!(
                    "certificate present, but not private key file \"{}\"",
                    get("sslkey").unwrap_or_else(|| default("postgresql.key")
                        .map(|p| p.display().to_string())
                        .unwrap_or_default())
                ))
            }
        }
    }
    Ok(plan)
}

/// libpq's environment variable for a connection parameter.
pub fn env_var(param: &str) -> Option<&'static str> {
    Some(match param {
        "sslmode" => "PGSSLMODE",
        "sslrootcert" => "PGSSLROOTCERT",
        "sslcert" => "PGSSLCERT",
        "sslkey" => "PGSSLKEY",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(params: &[(&str, &str)], files: &[&str]) -> Result<SslPlan, String> {
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let files: Vec<PathBuf> = files.iter().map(PathBuf::from).collect();
        resolve(
            &|k| {
                params
                    .iter()
                    .find(|(pk, _)| pk == k)
                    .map(|(_, v)| v.clone())
            },
            Some(Path::new("/home/u")),
            &|p| files.iter().any(|f| f == p),
        )
    }

    #[test]
    fn prefer_is_the_default_and_falls_back_to_plain() {
        let p = plan(&[], &[]).unwrap();
        assert_eq!(p.mode, SslMode::Prefer);
        assert_eq!(p.verify, Verify::None);
        assert_eq!(p.attempts(), vec![PgSslMode::Prefer, PgSslMode::Disable]);
        assert_eq!(p.client, None);
        let a = plan(&[("sslmode", "allow")], &[]).unwrap();
        assert_eq!(a.attempts(), vec![PgSslMode::Disable, PgSslMode::Require]);
        let d = plan(&[("sslmode", "disable")], &["/home/u/.postgresql/root.crt"]).unwrap();
        assert_eq!((d.verify, d.rootcert.clone()), (Verify::None, None));
        assert_eq!(d.attempts(), vec![PgSslMode::Disable]);
    }

    #[test]
    fn a_root_certificate_file_turns_verification_on() {
        // libpq: require with a root certificate file acts as verify-ca (prefer too, when TLS is used).
        for mode in ["require", "prefer", "verify-ca"] {
            let p = plan(&[("sslmode", mode)], &["/home/u/.postgresql/root.crt"]).unwrap();
            assert_eq!(p.verify, Verify::Chain, "{mode}");
            assert_eq!(
                p.rootcert.as_deref(),
                Some(Path::new("/home/u/.postgresql/root.crt"))
            );
        }
        let p = plan(&[("sslmode", "require")], &[]).unwrap();
        assert_eq!(p.verify, Verify::None);
        assert_eq!(p.attempts(), vec![PgSslMode::Require]);
        let p = plan(
            &[("sslmode", "verify-full"), ("sslrootcert", "/etc/ca.pem")],
            &["/etc/ca.pem"],
        )
        .unwrap();
        assert_eq!(p.verify, Verify::Full);
        let p = plan(
            &[("sslmode", "verify-full"), ("sslrootcert", "system")],
            &[],
        )
        .unwrap();
        assert_eq!(p.verify, Verify::Full);
    }

    #[test]
    fn verify_modes_need_the_root_certificate_file() {
        let e = plan(&[("sslmode", "verify-ca")], &[]).unwrap_err();
        assert_eq!(
            e,
            "root certificate file \"/home/u/.postgresql/root.crt\" does not exist\nEither provide the file, use the system's trusted roots with sslrootcert=system, or change sslmode to disable server certificate verification."
        );
        assert!(plan(&[("sslmode", "verify-full"), ("sslrootcert", "/nope")], &[]).is_err());
        assert_eq!(
            plan(&[("sslmode", "bogus")], &[]).unwrap_err(),
            "invalid sslmode value: \"bogus\""
        );
    }

    #[test]
    fn client_certificate_when_its_file_exists() {
        let p = plan(
            &[],
            &[
                "/home/u/.postgresql/postgresql.crt",
                "/home/u/.postgresql/postgresql.key",
            ],
        )
        .unwrap();
        assert_eq!(
            p.client,
            Some((
                PathBuf::from("/home/u/.postgresql/postgresql.crt"),
                PathBuf::from("/home/u/.postgresql/postgresql.key")
            ))
        );
        // A named certificate that does not exist is skipped, as libpq does.
        assert_eq!(plan(&[("sslcert", "/x.crt")], &[]).unwrap().client, None);
        let e = plan(&[("sslcert", "/x.crt"), ("sslkey", "/x.key")], &["/x.crt"]).unwrap_err();
        assert_eq!(
            e,
            "certificate present, but not private key file \"/x.key\""
        );
        let p = plan(
            &[
                ("sslcert", "/x.crt"),
                ("sslkey", "/x.key"),
                ("sslpassword", "pw"),
            ],
            &["/x.crt", "/x.key"],
        )
        .unwrap();
        assert_eq!(p.password.as_deref(), Some("pw"));
    }
}
