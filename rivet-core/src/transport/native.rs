//! Native transport: reqwest (rustls) for HTTP.
//!
//! Redirects: requests carry the token (`x-rivet-token`, `rvt-token`, `@token`) and the
//! connection params (`x-rivet-conn-params`), and reqwest's default policy would send the
//! custom headers along to any origin a 3xx points at (it only strips `authorization` and
//! cookies), plus a `Referer` with the full URL. So: redirects within the same origin
//! (scheme, host and port) are followed, up to [`MAX_REDIRECTS`], with the credentials
//! (the origin that issued the redirect is the one they were meant for); a redirect to
//! another origin is not followed and fails with [`Error::Redirected`]; no `Referer` is ever
//! sent.
//!
//! Trust: one policy for HTTP and WebSockets, since both go through reqwest with the same
//! TLS settings (rustls, aws-lc-rs): the platform's trust store through
//! `rustls-platform-verifier` (unless turned off), plus the root certificates of the
//! [`ClientConfig`]. TLS failures come back as [`TransportErrorKind::Tls`] with what to do.
//!
//! The reqwest clients are built on first use, one per URL scheme: `http`/`ws` URLs go
//! through a client without any trust store, so a client that only talks plain HTTP to a
//! local engine never reads the platform's CA certificates (a few hundred files) and works in
//! a container that has none. The TLS setup is built on the first `https`/`wss` URL, once:
//! the request client and the upgrade client share one `rustls::ClientConfig` and so one
//! verifier, and the trust store is read and parsed once, not once per client. A trust store
//! that cannot be loaded fails that call, with what to do.

use std::sync::{Arc, OnceLock};

use crate::config::ClientConfig;
use crate::runtime;
use crate::transport::{HttpRequest, HttpResponse};
use crate::{Error, Result, TransportErrorKind};

/// Same-origin redirects followed per request before giving up.
const MAX_REDIRECTS: usize = 10;

/// The TLS part of a [`ClientConfig`].
#[derive(Debug, Clone)]
struct TrustSettings {
    root_certificates: Vec<Vec<u8>>,
    platform_roots: bool,
}

/// The pooled HTTP clients and the clients of WebSocket upgrades, with one TLS setup, each
/// built on first use (module docs). Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct HttpClient {
    trust: Arc<TrustSettings>,
    clients: Arc<LazyClients>,
}

/// One reqwest client per (scheme, purpose), built when first asked for, and the TLS setup
/// the two `https` clients share.
#[derive(Debug, Default)]
struct LazyClients {
    plain: OnceLock<reqwest::Client>,
    tls: OnceLock<reqwest::Client>,
    plain_upgrade: OnceLock<reqwest::Client>,
    tls_upgrade: OnceLock<reqwest::Client>,
    tls_config: OnceLock<rustls::ClientConfig>,
}

/// Whether `url` (`http`, `https`, `ws` or `wss`) needs TLS.
fn uses_tls(url: &str) -> bool {
    let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
    scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("wss")
}

impl HttpClient {
    /// Keeps `config`'s trust settings; no reqwest client is built yet.
    pub(crate) fn new(config: &ClientConfig) -> Self {
        Self {
            trust: Arc::new(TrustSettings {
                root_certificates: config.root_certificates().to_vec(),
                platform_roots: config.platform_root_certificates(),
            }),
            clients: Arc::default(),
        }
    }

    /// The client for `url`: with the configured trust for `https`/`wss`, without any trust
    /// store for `http`/`ws` (redirects stay within one origin, so a request never changes
    /// scheme). `upgrade` asks for the client of WebSocket upgrades: HTTP/1.1 only (an app
    /// that turns on reqwest's `http2` feature would otherwise let TLS negotiate h2) and
    /// without idle connections (an upgrade consumes its connection anyway, and a pooled one
    /// would stay bound to the tokio runtime that opened it).
    fn client_for(&self, url: &str, upgrade: bool, operation: &str) -> Result<&reqwest::Client> {
        let tls = uses_tls(url);
        let slot = match (tls, upgrade) {
            (false, false) => &self.clients.plain,
            (true, false) => &self.clients.tls,
            (false, true) => &self.clients.plain_upgrade,
            (true, true) => &self.clients.tls_upgrade,
        };
        if let Some(client) = slot.get() {
            return Ok(client);
        }
        let tls_config = if tls {
            Some(self.tls_config(operation)?)
        } else {
            None
        };
        let mut builder = reqwest::Client::builder();
        if upgrade {
            builder = builder.http1_only().pool_max_idle_per_host(0);
        }
        let client = build_reqwest(builder, tls_config)
            .map_err(|e| client_build_error(operation, &self.trust, &e.without_url()))?;
        Ok(slot.get_or_init(|| client))
    }

    /// The TLS setup of every `https`/`wss` client, built on first use.
    fn tls_config(&self, operation: &str) -> Result<&rustls::ClientConfig> {
        if let Some(config) = self.clients.tls_config.get() {
            return Ok(config);
        }
        let config = build_tls_config(&self.trust)
            .map_err(|e| client_build_error(operation, &self.trust, &e))?;
        Ok(self.clients.tls_config.get_or_init(|| config))
    }

    /// The client a WebSocket upgrade of `url` (`http`/`https` form) goes through.
    pub(crate) fn upgrade_client(&self, url: &str, operation: &str) -> Result<&reqwest::Client> {
        self.client_for(url, true, operation)
    }

    /// Sends `request` and buffers the response body up to `request.limit` (a larger body
    /// fails with [`Error::TooLarge`], checked against `content-length` first, then while
    /// reading); fails with [`Error::Timeout`] once the request's deadline passes.
    pub(crate) async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let HttpRequest {
            method,
            url,
            headers,
            body,
            timeout,
            limit,
            operation,
        } = request;
        let method = reqwest::Method::from_bytes(method.as_str().as_bytes())
            .map_err(|e| Error::invalid("method", method.as_str(), e.to_string()))?;
        let mut builder = self
            .client_for(&url, false, &operation)?
            .request(method, &url);
        for (name, value) in &headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = body {
            builder = builder.body(body);
        }
        let exchange = async {
            let mut response = builder
                .send()
                .await
                .map_err(|e| transport_error(&operation, e))?;
            refuse_redirect(&operation, &response)?;
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let announced = response.content_length();
            if announced.is_some_and(|len| limit.exceeded_by(len)) {
                // Dropping the response closes the connection without reading the body.
                return Err(limit.error(&operation));
            }
            let mut body = Vec::with_capacity(announced.map_or(0, |len| len as usize));
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| transport_error(&operation, e))?
            {
                if limit.exceeded_by((body.len() + chunk.len()) as u64) {
                    return Err(limit.error(&operation));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(HttpResponse {
                status,
                headers,
                body,
            })
        };
        match runtime::timeout(timeout, exchange).await {
            Some(result) => result,
            None => Err(Error::Timeout {
                operation,
                after: timeout,
            }),
        }
    }
}

/// A reqwest client for HTTP requests or WebSocket upgrades: no cross-origin redirects, no
/// `Referer`, and `tls` for TLS. Without `tls` (plain `http`), no trust store at all:
/// nothing is read from disk, and TLS would fail, which a plain URL never asks for.
fn build_reqwest(
    builder: reqwest::ClientBuilder,
    tls: Option<&rustls::ClientConfig>,
) -> reqwest::Result<reqwest::Client> {
    let builder = builder
        .user_agent(concat!("rivet-rs/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::custom(same_origin_only))
        .referer(false);
    match tls {
        // A clone shares the verifier (an `Arc`) and so its root store.
        Some(config) => builder.tls_backend_preconfigured(config.clone()),
        None => builder.tls_certs_only(Vec::<reqwest::Certificate>::new()),
    }
    .build()
}

/// The TLS setup reqwest would build for `trust` (same crypto provider, TLS versions and
/// verifier), HTTP/1.1 only: the platform's trust store through `rustls-platform-verifier`
/// plus the configured roots, or the configured roots alone.
fn build_tls_config(
    trust: &TrustSettings,
) -> std::result::Result<rustls::ClientConfig, rustls::Error> {
    use rustls::pki_types::CertificateDer;
    // An app may have installed its own process-wide provider; otherwise aws-lc-rs, as reqwest.
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(rustls::ALL_VERSIONS)?;
    let extra_roots = trust
        .root_certificates
        .iter()
        .map(|der| CertificateDer::from(der.clone()));
    let mut config = if trust.platform_roots {
        let verifier = platform_verifier(extra_roots, provider)?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore::empty();
        for root in extra_roots {
            roots.add(root)?;
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    // Upgrades need HTTP/1.1, and the request client speaks nothing else.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The platform's verifier, trusting `extra_roots` too.
fn platform_verifier(
    extra_roots: impl ExactSizeIterator<Item = rustls::pki_types::CertificateDer<'static>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> std::result::Result<rustls_platform_verifier::Verifier, rustls::Error> {
    if extra_roots.len() == 0 {
        return rustls_platform_verifier::Verifier::new(provider);
    }
    #[cfg(not(target_os = "android"))]
    return rustls_platform_verifier::Verifier::new_with_extra_roots(extra_roots, provider);
    #[cfg(target_os = "android")]
    Err(rustls::Error::General(
        "added root certificates are not supported on Android (the platform's verifier \
         cannot take extra roots there): install the CA in the device's trust store"
            .to_owned(),
    ))
}

/// Building a client fails on TLS setup only: most often a platform without any CA
/// certificates (a minimal container).
fn client_build_error(
    operation: &str,
    trust: &TrustSettings,
    err: &(dyn std::error::Error + 'static),
) -> Error {
    let hint = if trust.platform_roots {
        "the platform's trust store could not be loaded (on Linux: install the \
         ca-certificates package, or point SSL_CERT_FILE at a CA bundle), or add the \
         engine's CA with ClientConfigBuilder::add_root_certificate"
    } else {
        "check the certificates given to ClientConfigBuilder::add_root_certificate"
    };
    Error::Transport {
        operation: operation.to_owned(),
        kind: TransportErrorKind::Tls,
        message: format!("{}: {hint}", error_chain(err)),
    }
}

/// Whether `der` is a certificate rustls accepts as a trust anchor.
pub(crate) fn check_certificate(der: &[u8]) -> std::result::Result<(), String> {
    rustls::RootCertStore::empty()
        .add(rustls::pki_types::CertificateDer::from(der))
        .map_err(|e| e.to_string())
}

/// Follows a redirect only within the origin of the request that got it.
fn same_origin_only(attempt: reqwest::redirect::Attempt<'_>) -> reqwest::redirect::Action {
    let same_origin = attempt
        .previous()
        .last()
        .is_some_and(|previous| previous.origin() == attempt.url().origin());
    if same_origin && attempt.previous().len() <= MAX_REDIRECTS {
        attempt.follow()
    } else {
        attempt.stop()
    }
}

/// A redirect the policy stopped at, as [`Error::Redirected`] naming only the target's
/// origin (its path or query may echo the token).
pub(crate) fn refuse_redirect(operation: &str, response: &reqwest::Response) -> Result<()> {
    if !response.status().is_redirection() {
        return Ok(());
    }
    let Some(location) = response.headers().get(reqwest::header::LOCATION) else {
        return Ok(());
    };
    let target = location
        .to_str()
        .ok()
        .and_then(|l| response.url().join(l).ok());
    let location = match target {
        Some(url) if url.origin() == response.url().origin() => {
            format!(
                "{} again after {MAX_REDIRECTS} redirects",
                url.origin().ascii_serialization()
            )
        }
        Some(url) => url.origin().ascii_serialization(),
        None => "an unparseable location".to_owned(),
    };
    Err(Error::Redirected {
        operation: operation.to_owned(),
        status: response.status().as_u16(),
        location,
    })
}

pub(crate) fn transport_error(operation: &str, err: reqwest::Error) -> Error {
    // URLs may carry a token (`@token`, `rvt-token`): never quote them.
    let err = err.without_url();
    let message = error_chain(&err);
    if let Some(tls) = find_rustls_error(&err) {
        return Error::Transport {
            operation: operation.to_owned(),
            kind: TransportErrorKind::Tls,
            message: format!("{message}. {}", tls_advice(tls)),
        };
    }
    let kind = if err.is_connect() {
        TransportErrorKind::Connect
    } else if err.is_request() || err.is_body() || err.is_decode() {
        TransportErrorKind::Io
    } else {
        TransportErrorKind::Other
    };
    Error::Transport {
        operation: operation.to_owned(),
        kind,
        message,
    }
}

/// reqwest's Display stops at the outermost layer ("error sending request"); the cause
/// chain says why (connection refused, reset, invalid peer certificate, …).
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// The rustls error somewhere in `err`'s causes. `io::Error` hides the error it wraps from
/// `source()` (it returns that error's own source), and the TLS stack wraps rustls's error
/// in more than one `io::Error`: step into those with `get_ref()` instead.
fn find_rustls_error(err: &reqwest::Error) -> Option<&rustls::Error> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    while let Some(cause) = next {
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        next = match cause.downcast_ref::<std::io::Error>() {
            Some(io) => match io.get_ref() {
                Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
                None => None,
            },
            None => cause.source(),
        };
    }
    None
}

/// What to do about a TLS failure, in words.
fn tls_advice(err: &rustls::Error) -> &'static str {
    use rustls::CertificateError as C;
    match err {
        rustls::Error::InvalidCertificate(C::UnknownIssuer | C::BadSignature) => {
            "The server's certificate is not signed by a trusted root. If the engine uses a \
             private or self-signed CA, add its certificate with \
             ClientConfigBuilder::add_root_certificate (in a browser: install it in the \
             browser's or the OS's trust store)"
        }
        rustls::Error::InvalidCertificate(
            C::NotValidForName | C::NotValidForNameContext { .. },
        ) => {
            "The server's certificate is not valid for the host name in the endpoint. Use the \
             host name the certificate was issued for (e.g. localhost rather than 127.0.0.1, \
             or the public name rather than an internal one)"
        }
        rustls::Error::InvalidCertificate(
            C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. },
        ) => {
            "The server's certificate is outside its validity period: renew it, or check this \
             machine's clock"
        }
        rustls::Error::InvalidCertificate(_) => {
            "The server's certificate was rejected. Check that the engine serves a valid \
             certificate chain for this host name, signed by a trusted root"
        }
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            "The server did not answer with TLS. Is the endpoint really https? (A plaintext \
             engine, e.g. a local one, is reached with http://.)"
        }
        _ => "The TLS handshake failed. Check that the endpoint serves https on that port",
    }
}
