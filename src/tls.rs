//! TLS material and TLS error wording shared by every client patctl opens: the Patroni REST API, etcd
//! v2 and v3, and PostgreSQL (`query`).
//!
//! All of them use OpenSSL, the library behind patronictl's own clients (Python's `ssl` module under
//! urllib3, and libpq under psycopg2), so a certificate chain is accepted or refused by the same rules:
//! a self-signed server certificate listed in the CA file is trusted whether or not it says `CA:TRUE`,
//! an expired, wrong-host or unknown-CA certificate is refused. Encrypted private keys are decrypted in
//! memory with the password patronictl would pass (`ctl.keyfile_password` for the REST API; libpq's
//! `sslpassword` for PostgreSQL) and handed to the client as plain keys.

use std::path::Path;

use openssl::pkey::{PKey, Private};
use openssl::x509::X509;

use crate::error::{Error, Result};

/// A client certificate (with any intermediate certificates after it) and its decrypted key.
pub struct ClientCert {
    /// The leaf first, then the rest of the chain as found in the file.
    pub chain: Vec<X509>,
    /// The private key, decrypted.
    pub key: PKey<Private>,
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        let why = e.to_string();
        let why = why.split(" (os error").next().unwrap_or(&why).to_string();
        Error::usage(format!("cannot read {what} {}: {why}", path.display())).with_source(e)
    })
}

/// The certificates of a PEM CA file (`what` names the setting in messages).
pub fn load_ca(path: &Path, what: &str) -> Result<Vec<X509>> {
    let pem = read(path, what)?;
    match X509::stack_from_pem(&pem) {
        Ok(certs) if !certs.is_empty() => Ok(certs),
        _ => Err(Error::usage(format!(
            "invalid {what} {}: no PEM certificate in it",
            path.display()
        ))),
    }
}

/// Load a client certificate and its key (from `key`, else from the certificate file), decrypting an
/// encrypted key with `password`. `password_setting` names the setting that holds the password, or is
/// `None` when patronictl has no such setting for this client.
pub fn load_client_cert(
    cert: &Path,
    key: Option<&Path>,
    password: Option<&str>,
    password_setting: Option<&str>,
    what: &str,
) -> Result<ClientCert> {
    let cert_pem = read(cert, &format!("{what} certificate"))?;
    let chain = match X509::stack_from_pem(&cert_pem) {
        Ok(c) if !c.is_empty() => c,
        _ => {
            return Err(Error::usage(format!(
                "invalid {what} certificate {}: no PEM certificate in it",
                cert.display()
            )))
        }
    };
    let key_path = key.unwrap_or(cert);
    let key_pem = read(key_path, &format!("{what} key"))?;
    let key = decrypt_key(&key_pem, password).map_err(|e| {
        let msg = match e {
            KeyError::NeedsPassword => match password_setting {
                Some(s) => format!("the {what} key {} is encrypted: set {s}", key_path.display()),
                None => format!(
                    "the {what} key {} is encrypted, and patronictl has no setting for its password: decrypt it (openssl pkey -in KEY -out PLAIN_KEY)",
                    key_path.display()
                ),
            },
            KeyError::WrongPassword => format!(
                "cannot decrypt the {what} key {}: wrong password{}",
                key_path.display(),
                password_setting.map(|s| format!(" ({s})")).unwrap_or_default()
            ),
            KeyError::Invalid(why) => {
                format!("invalid {what} key {}: {why}", key_path.display())
            }
        };
        Error::usage(msg)
    })?;
    let matches = chain[0]
        .public_key()
        .map(|p| p.public_eq(&key))
        .unwrap_or(false);
    if !matches {
        return Err(Error::usage(format!(
            "the {what} certificate {} and key {} do not match",
            cert.display(),
            key_path.display()
        )));
    }
    Ok(ClientCert { chain, key })
}

/// Why a private key could not be loaded.
#[derive(Debug, PartialEq, Eq)]
pub enum KeyError {
    /// The key is encrypted and no password was given.
    NeedsPassword,
    /// The key is encrypted and the password does not open it.
    WrongPassword,
    /// Not a PEM private key.
    Invalid(String),
}

/// Parse a PEM private key, decrypting it with `password` when it is encrypted (as OpenSSL's
/// `SSL_CTX_use_PrivateKey_file` with a password callback does: a password given for a plain key is
/// ignored).
pub fn decrypt_key(
    pem: &[u8],
    password: Option<&str>,
) -> std::result::Result<PKey<Private>, KeyError> {
    let mut asked = false;
    let parsed = PKey::private_key_from_pem_callback(pem, |buf| {
        asked = true;
        match password {
            Some(p) if p.len() <= buf.len() => {
                buf[..p.len()].copy_from_slice(p.as_bytes());
                Ok(p.len())
            }
            _ => Ok(0),
        }
    });
    match parsed {
        Ok(k) => Ok(k),
        Err(_) if asked && password.is_none() => Err(KeyError::NeedsPassword),
        Err(_) if asked => Err(KeyError::WrongPassword),
        Err(e) => Err(KeyError::Invalid(reason_of_stack(&e))),
    }
}

/// The reason part of the first error in an OpenSSL error stack.
pub fn reason_of_stack(e: &openssl::error::ErrorStack) -> String {
    e.errors()
        .first()
        .and_then(|e| e.reason().map(str::to_string))
        .unwrap_or_else(|| "no PEM data".to_string())
}

/// A one-line reason for a failed TLS connection, from the text of every error in a chain (as OpenSSL
/// and the crates around it print them), or `None` when nothing in it is about TLS.
///
/// A verification failure reads as Python's `ssl` says it, `certificate verify failed: <OpenSSL's
/// verify result>` (`certificate has expired`, `hostname mismatch`, `IP address mismatch`, `unable
/// to get local issuer certificate`, `self-signed certificate`); any other handshake failure as the
/// OpenSSL reason (`tlsv13 alert certificate required`, …).
pub fn describe(texts: &[String]) -> Option<String> {
    for t in texts {
        if let Some(i) = t.find("certificate verify failed") {
            const HEAD: &str = "certificate verify failed";
            let rest = &t[i + HEAD.len()..];
            if rest.starts_with(": ") && !rest.contains('(') {
                // Already worded by us: `certificate verify failed: <verify result>`.
                return Some(t[i..].trim().to_string());
            }
            // Wrappers of OpenSSL append its verify result in parentheses, or after `:: `.
            let detail = t[i..]
                .rfind('(')
                .and_then(|open| {
                    let inner = &t[i + open + 1..];
                    inner.find(')').map(|close| inner[..close].to_string())
                })
                .or_else(|| rest.find(":: ").map(|j| rest[j + 3..].trim().to_string()))
                .filter(|d| !d.is_empty() && !d.starts_with('_'));
            return Some(match detail {
                Some(d) => format!("certificate verify failed: {d}"),
                None => "certificate verify failed".to_string(),
            });
        }
    }
    texts.iter().rev().find_map(|t| openssl_reason(t))
}

/// The reason field of an OpenSSL error line `error:0A000410:SSL routines:func:reason:file:line:…`.
fn openssl_reason(text: &str) -> Option<String> {
    let start = text.find("error:")?;
    let fields: Vec<&str> = text[start..].split(':').collect();
    let lib = fields.get(2)?;
    if !lib.contains("SSL") && !lib.contains("x509") && !lib.contains("X509") {
        return None;
    }
    fields
        .get(4)
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(texts: &[&str]) -> Option<String> {
        describe(&texts.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn verify_failures_read_like_python() {
        assert_eq!(
            d(&[
                "error trying to connect",
                "error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:../ssl/statem/statem_clnt.c:1889: (certificate has expired)",
                "error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:../ssl/statem/statem_clnt.c:1889:",
            ])
            .unwrap(),
            "certificate verify failed: certificate has expired"
        );
        assert_eq!(
            d(&["error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:../ssl/statem/statem_clnt.c:1889:"]).unwrap(),
            "certificate verify failed"
        );
        assert_eq!(
            d(&["x", "error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../ssl/record/rec_layer_s3.c:1586:SSL alert number 116"]).unwrap(),
            "tlsv13 alert certificate required"
        );
        assert_eq!(
            d(&[
                "transport error",
                "certificate verify failed: hostname mismatch"
            ])
            .unwrap(),
            "certificate verify failed: hostname mismatch"
        );
        assert_eq!(
            d(&["error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:../ssl/statem/statem_clnt.c:1889:: IP address mismatch"]).unwrap(),
            "certificate verify failed: IP address mismatch"
        );
        assert_eq!(d(&["connection refused"]), None);
    }

    #[test]
    fn keys_decrypt_with_the_right_password_only() {
        let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
        let key = PKey::from_rsa(rsa).unwrap();
        let plain = key.private_key_to_pem_pkcs8().unwrap();
        let enc = key
            .private_key_to_pem_pkcs8_passphrase(openssl::symm::Cipher::aes_256_cbc(), b"s3cret")
            .unwrap();
        assert!(decrypt_key(&plain, None).unwrap().public_eq(&key));
        assert!(decrypt_key(&plain, Some("ignored")).is_ok());
        assert!(decrypt_key(&enc, Some("s3cret")).unwrap().public_eq(&key));
        assert_eq!(decrypt_key(&enc, None).err(), Some(KeyError::NeedsPassword));
        assert_eq!(
            decrypt_key(&enc, Some("wrong")).err(),
            Some(KeyError::WrongPassword)
        );
        assert!(matches!(
            decrypt_key(b"not a key", None),
            Err(KeyError::Invalid(_))
        ));
    }
}
