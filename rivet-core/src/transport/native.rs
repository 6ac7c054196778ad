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

use crate::runtime;
use crate::transport::{HttpRequest, HttpResponse};
use crate::{Error, Result, TransportErrorKind};

/// Same-origin redirects followed per request before giving up.
const MAX_REDIRECTS: usize = 10;

/// A pooled HTTP client. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct HttpClient {
    inner: reqwest::Client,
}

impl HttpClient {
    pub(crate) fn new() -> Result<Self> {
        let inner = build_reqwest(reqwest::Client::builder()).map_err(|e| Error::Transport {
            operation: "create HTTP client".into(),
            kind: TransportErrorKind::Tls,
            message: e.to_string(),
        })?;
        Ok(Self { inner })
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
        let mut builder = self.inner.request(method, &url);
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

/// The reqwest client of HTTP requests and WebSocket upgrades: no cross-origin redirects,
/// no `Referer`.
pub(crate) fn build_reqwest(builder: reqwest::ClientBuilder) -> reqwest::Result<reqwest::Client> {
    builder
        .user_agent(concat!("rivet-rs/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::custom(same_origin_only))
        .referer(false)
        .build()
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
    let kind = if err.is_connect() {
        TransportErrorKind::Connect
    } else if err.is_request() || err.is_body() || err.is_decode() {
        TransportErrorKind::Io
    } else {
        TransportErrorKind::Other
    };
    // reqwest's Display stops at the outermost layer ("error sending request"); the cause
    // chain says why (connection refused, reset, …).
    let mut message = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Error::Transport {
        operation: operation.to_owned(),
        kind,
        message,
    }
}
