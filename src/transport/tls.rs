//! Trust for https: the platform's roots, or only the certificates in `--cacert`. With
//! `--cacert`, a server certificate that is itself in the file is accepted even when it is a
//! self-signed CA certificate (what `openssl req -x509` makes), as curl accepts it: webpki
//! alone refuses those as `CaUsedAsEndEntity`. ureq has no hook for a custom verifier, so
//! `--cacert` connections go through a small connector of ours that wraps the socket in
//! rustls with that verifier. Failures become sentences with a `help:` line.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct};
use rustls::{RootCertStore, SignatureScheme, StreamOwned};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport,
    TransportAdapter,
};

use crate::error::{Error, Result};

pub const HELP: &str = "if you trust this server, pass its certificate (or its authority's) with --cacert FILE (PEM); --insecure skips the check";

/// The certificates in a `--cacert` file.
pub fn read_cacert(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let pem = std::fs::read(path)
        .map_err(|e| Error::usage(format!("cannot read --cacert {}: {e}", path.display())))?;
    let certificates: Vec<CertificateDer<'static>> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(certificate)) => {
                Some(CertificateDer::from(certificate.der().to_vec()))
            }
            _ => None,
        })
        .collect();
    if certificates.is_empty() {
        return Err(Error::usage(format!(
            "--cacert {} holds no PEM certificate",
            path.display()
        ))
        .with_help("give a file with -----BEGIN CERTIFICATE----- blocks"));
    }
    Ok(certificates)
}

/// A rustls client that trusts exactly `certificates` (as roots, or as the server's own).
pub fn client_config(
    path: &Path,
    certificates: Vec<CertificateDer<'static>>,
) -> Result<Arc<ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(certificates.iter().cloned());
    let unusable = || {
        Error::usage(format!(
            "--cacert {}: no certificate in it can be used",
            path.display()
        ))
        .with_help("give the PEM certificate of the server or of the authority that signed it")
    };
    if added == 0 {
        return Err(unusable());
    }
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|_| unusable())?;
    let verifier = PinningVerifier {
        webpki,
        certificates,
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|_| unusable())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// webpki with the `--cacert` roots, and one more way to pass: the presented certificate is
/// byte for byte one from the file, and valid for the name. webpki has checked its dates by
/// the time it reports an issuer or CA problem, and the handshake signature is checked with
/// the certificate's own key as always.
#[derive(Debug)]
struct PinningVerifier {
    webpki: Arc<WebPkiServerVerifier>,
    certificates: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let error = match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(verified) => return Ok(verified),
            Err(error) => error,
        };
        let pinnable = matches!(
            error,
            rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer | CertificateError::Other(_)
            )
        );
        if !pinnable
            || !self
                .certificates
                .iter()
                .any(|c| c.as_ref() == end_entity.as_ref())
        {
            return Err(error);
        }
        let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_name(&parsed, server_name)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// Wraps the chained socket in TLS with our config for https URLs.
pub struct PinnedTls {
    pub config: Arc<ClientConfig>,
}

impl std::fmt::Debug for PinnedTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PinnedTls")
    }
}

impl<In: Transport> Connector<In> for PinnedTls {
    type Out = Either<In, TlsTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> std::result::Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Err(ureq::Error::ConnectionFailed);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details
            .uri
            .host()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let name = ServerName::try_from(host)
            .map_err(|_| ureq::Error::Tls("the host is not a valid TLS server name"))?;
        let mut connection = ClientConnection::new(self.config.clone(), name)?;
        let mut socket = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        socket.set_timeout(details.timeout);
        connection.complete_io(&mut socket).map_err(unwrap_rustls)?;
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(Either::B(TlsTransport {
            buffers,
            stream: StreamOwned::new(connection, socket),
        })))
    }
}

/// rustls reports handshake failures inside an io::Error; take them out for the message.
fn unwrap_rustls(error: std::io::Error) -> ureq::Error {
    if error
        .get_ref()
        .is_some_and(|inner| inner.is::<rustls::Error>())
    {
        if let Ok(inner) = error
            .into_inner()
            .unwrap_or_else(|| unreachable!())
            .downcast()
        {
            return ureq::Error::Rustls(*inner);
        }
        return ureq::Error::ConnectionFailed;
    }
    ureq::Error::from(error)
}

pub struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl std::fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsTransport")
    }
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(
        &mut self,
        amount: usize,
        timeout: NextTimeout,
    ) -> std::result::Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> std::result::Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

/// A handshake failure in words, with what to try. `cacert` is the file trusted instead of
/// the system's store, if any.
pub fn describe(error: &rustls::Error, host: &str, cacert: Option<&Path>) -> Error {
    use CertificateError as C;
    let trusted = match cacert {
        Some(path) => format!("in --cacert {}", path.display()),
        None => "in the system's trust store".to_string(),
    };
    let why = match error {
        rustls::Error::InvalidCertificate(certificate) => match certificate {
            C::UnknownIssuer => {
                format!("the certificate of {host} is not signed by an authority {trusted}")
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => format!(
                "the certificate of {host} is not valid for the name {}",
                without_port(host)
            ),
            C::Expired | C::ExpiredContext { .. } => {
                format!("the certificate of {host} has expired")
            }
            C::NotValidYet | C::NotValidYetContext { .. } => {
                format!("the certificate of {host} is not valid yet")
            }
            C::Revoked => format!("the certificate of {host} has been revoked"),
            C::Other(_) => format!(
                "the certificate of {host} is self-signed or an authority's own, and not {trusted}"
            ),
            _ => format!("the certificate of {host} was refused"),
        },
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            format!("{host} did not answer in TLS (is it a plain http:// server?)")
        }
        rustls::Error::AlertReceived(_) => format!("{host} refused the TLS handshake"),
        rustls::Error::PeerIncompatible(_) => {
            format!("{host} offers no TLS version or cipher epilot supports")
        }
        _ => format!("the TLS handshake with {host} failed"),
    };
    Error::network(why).with_help(HELP)
}

fn without_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port))
            if (!name.contains(':') || name.ends_with(']'))
                && port.chars().all(|c| c.is_ascii_digit()) =>
        {
            name
        }
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_failures_are_sentences_with_what_to_try() {
        let cases = [
            (
                rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
                Some(Path::new("ca.pem")),
                "the certificate of h:1 is not signed by an authority in --cacert ca.pem",
            ),
            (
                rustls::Error::InvalidCertificate(CertificateError::Expired),
                None,
                "the certificate of h:1 has expired",
            ),
            (
                rustls::Error::InvalidCertificate(CertificateError::NotValidForName),
                None,
                "the certificate of h:1 is not valid for the name h",
            ),
            (
                rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
                None,
                "h:1 did not answer in TLS (is it a plain http:// server?)",
            ),
        ];
        for (error, cacert, message) in cases {
            let described = describe(&error, "h:1", cacert);
            assert_eq!(described.message, message);
            assert_eq!(described.help.as_deref(), Some(HELP));
            assert_eq!(described.kind, crate::error::ErrorKind::Network);
        }
        assert_eq!(without_port("[::1]:8443"), "[::1]");
        assert_eq!(without_port("::1"), "::1");
        assert_eq!(without_port("a.test"), "a.test");
    }
}
