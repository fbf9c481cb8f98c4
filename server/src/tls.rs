//! HTTPS without a proxy: `liner serve --tls-cert FILE --tls-key FILE` (PEM; rustls).
//!
//! With it, the server speaks only HTTPS on its address: a plain HTTP request is answered
//! `400` with the words to use `https://`, and closed (never served, so a token sent in the
//! clear by mistake goes no further than the wire). The session cookie is `Secure`, and with
//! `--hsts` every answer carries `Strict-Transport-Security`.

use std::path::Path;
use std::sync::Arc;
use thiserror::Error;

/// What the server needs to answer over TLS.
#[derive(Clone)]
pub struct Tls {
    pub(crate) acceptor: tokio_rustls::TlsAcceptor,
    /// Whether answers carry `Strict-Transport-Security` (a year).
    pub hsts: bool,
}

/// A request extension: it came over this server's TLS.
#[derive(Debug, Clone, Copy)]
pub struct OverTls;

#[derive(Debug, Error)]
pub enum TlsError {
    #[error("reading {file}: {why}")]
    Read { file: String, why: String },
    #[error("{0} holds no certificate (PEM, `-----BEGIN CERTIFICATE-----`)")]
    NoCertificate(String),
    #[error("the certificate and key do not make a TLS setup: {0}")]
    Setup(String),
}

impl Tls {
    /// The certificate chain in `cert` (server certificate first) and its private key in
    /// `key`, both PEM.
    ///
    /// # Errors
    /// A file cannot be read or holds nothing usable, or the key does not fit.
    pub fn from_pem_files(cert: &Path, key: &Path, hsts: bool) -> Result<Tls, TlsError> {
        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::{CertificateDer, PrivateKeyDer};
        let read = |file: &Path, why: String| TlsError::Read {
            file: file.display().to_string(),
            why,
        };
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .map_err(|e| read(cert, e.to_string()))?
            .collect::<Result<_, _>>()
            .map_err(|e| read(cert, e.to_string()))?;
        if chain.is_empty() {
            return Err(TlsError::NoCertificate(cert.display().to_string()));
        }
        let key = PrivateKeyDer::from_pem_file(key).map_err(|e| read(key, e.to_string()))?;
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let mut config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Setup(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| TlsError::Setup(e.to_string()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            hsts,
        })
    }
}
