//! The metadata lookup the JS client does before its first request: `GET {endpoint}/metadata`.
//!
//! Serverless deployments answer with `clientEndpoint` (and `clientNamespace`, `clientToken`):
//! where clients should really send their requests. The local engine answers
//! `{"runtime":"engine","version":"2.3.19",…}` without them, and older servers answer 404;
//! in both cases the configured endpoint is kept.
//!
//! One lookup per [`Client`](crate::Client), shared by its clones: the first call starts it,
//! concurrent first calls wait for the same one, each within its own deadline. A lookup that
//! fails (transport error, `5xx`, `401`, …) hands its error to the calls waiting for it and the
//! next attempt starts a new one, so each path repeats it as it repeats its own requests:
//! actions, queue sends and raw fetch with their lifecycle budget and backoff (a refused
//! connect or `guard.service_unavailable` is repeated, a `403` is not), connections with their
//! reconnect backoff; nothing multiplies the attempts. (The JS client repeats the lookup
//! forever, 0.5 s to 15 s apart, so a server that is down holds every call until its
//! deadline and ends it as a timeout rather than a connect error.)

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use futures::future::{FutureExt, Shared};
use serde_json::Value;

use crate::config::ClientConfig;
use crate::gateway::encode_component;
use crate::protocol::Encoding;
use crate::runtime::{self, BoxFuture};
use crate::transport::{HttpClient, HttpRequest, Method, ResponseLimit};
use crate::{http, Error, Result};

/// What the lookup found: `Some` config to switch to, or `None` to keep the configured one.
type Outcome = Result<Option<ClientConfig>>;

/// The lookup state of one client.
#[derive(Default)]
pub(crate) struct Metadata {
    /// Set once a lookup succeeded (or is turned off): the config to use instead of the
    /// configured one, if any.
    resolved: OnceLock<Option<ClientConfig>>,
    /// The lookup in flight, shared by every call waiting for it.
    pending: Mutex<Option<Shared<BoxFuture<'static, Outcome>>>>,
}

impl std::fmt::Debug for Metadata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The switched config's own `Debug` hides its token.
        f.debug_struct("Metadata")
            .field("resolved", &self.resolved.get())
            .finish_non_exhaustive()
    }
}

impl Metadata {
    /// The config to use instead of the configured one, once the lookup found one.
    pub(crate) fn switched(&self) -> Option<&ClientConfig> {
        self.resolved.get().and_then(Option::as_ref)
    }

    /// Runs the lookup (or waits for the one in flight) unless it already succeeded, for at
    /// most `bound`.
    pub(crate) async fn ensure(
        &self,
        config: &ClientConfig,
        http: &HttpClient,
        bound: Duration,
    ) -> Result<()> {
        if !config.metadata_lookup() || self.resolved.get().is_some() {
            return Ok(());
        }
        let lookup = {
            let mut pending = self.lock();
            match &*pending {
                Some(lookup) => lookup.clone(),
                None => {
                    let future: BoxFuture<'static, Outcome> =
                        Box::pin(look_up(http.clone(), config.clone()));
                    let lookup = future.shared();
                    *pending = Some(lookup.clone());
                    lookup
                }
            }
        };
        match runtime::timeout(bound, lookup.clone()).await {
            Some(Ok(switched)) => {
                // Another waiter may have stored the same outcome first.
                let _ = self.resolved.set(switched);
                *self.lock() = None;
                Ok(())
            }
            Some(Err(err)) => {
                let mut pending = self.lock();
                if pending.as_ref().is_some_and(|p| p.ptr_eq(&lookup)) {
                    *pending = None;
                }
                Err(err)
            }
            None => Err(Error::Timeout {
                operation: format!("look up {}/metadata", config.endpoint()),
                after: bound,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Shared<BoxFuture<'static, Outcome>>>> {
        // The guarded value is replaced whole, so a poisoned lock still holds a valid one.
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `err` from the lookup, naming the call it happened for: `"{call} (before it: {lookup})"`.
pub(crate) fn during(err: Error, call: &str) -> Error {
    match err {
        Error::Transport {
            operation,
            kind,
            message,
        } => Error::Transport {
            operation: format!("{call} (before it: {operation})"),
            kind,
            message,
        },
        Error::Http {
            operation,
            status,
            body,
        } => Error::Http {
            operation: format!("{call} (before it: {operation})"),
            status,
            body,
        },
        err => err,
    }
}

/// `GET {endpoint}/metadata?namespace=…`, as the JS client's `lookupMetadataCached` does:
/// one attempt. A transport error or `5xx` is returned as such, so the calling path repeats it
/// the way it repeats its own requests (see the module docs).
async fn look_up(http: HttpClient, config: ClientConfig) -> Outcome {
    let url = format!(
        "{}/metadata?namespace={}",
        config.endpoint(),
        encode_component(config.namespace())
    );
    let operation = format!("look up {}/metadata", config.endpoint());
    let mut headers = config.headers().to_vec();
    headers.push(("accept".into(), "application/json".into()));
    if let Some(token) = config.token() {
        headers.push(("authorization".into(), format!("Bearer {}", token.expose())));
    }
    let response = http
        .send(HttpRequest {
            method: Method::Get,
            url,
            headers,
            body: None,
            timeout: config.request_timeout(),
            limit: ResponseLimit::protocol(&config),
            operation: operation.clone(),
        })
        .await
        .inspect_err(|err| {
            tracing::debug!(endpoint = config.endpoint(), error = %err, "metadata lookup failed");
        })?;
    if response.is_success() {
        return switch_to(&config, &response.body);
    }
    // Older servers have no metadata route.
    if response.status == 404 {
        tracing::debug!(endpoint = config.endpoint(), "no metadata (404)");
        return Ok(None);
    }
    Err(http::error_from_response(
        &response,
        Encoding::Json,
        &operation,
    ))
}

/// The config a 2xx metadata reply points to, if it names a `clientEndpoint`.
fn switch_to(config: &ClientConfig, body: &[u8]) -> Outcome {
    let Ok(reply) = serde_json::from_slice::<Value>(body) else {
        tracing::debug!(
            endpoint = config.endpoint(),
            "metadata is not JSON, ignored"
        );
        return Ok(None);
    };
    let text = |name: &str| {
        reply
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    tracing::debug!(
        endpoint = config.endpoint(),
        runtime = text("runtime"),
        version = text("version"),
        "received metadata"
    );
    let Some(endpoint) = text("clientEndpoint") else {
        return Ok(None);
    };
    let switched = config.switched(endpoint, text("clientNamespace"), text("clientToken"))?;
    // Never the token (the JS client logs `clientToken` at info level; this one does not).
    tracing::info!(
        endpoint = switched.endpoint(),
        namespace = switched.namespace(),
        "the metadata lookup switched the client endpoint"
    );
    Ok(Some(switched))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ClientConfig {
        ClientConfig::new("https://ns:old-token@api.example.com/base").unwrap()
    }

    #[test]
    fn replies_without_client_endpoint_keep_the_config() {
        assert!(switch_to(&config(), b"not json").unwrap().is_none());
        assert!(switch_to(&config(), b"[1]").unwrap().is_none());
        let local = br#"{"runtime":"engine","version":"2.3.19"}"#;
        assert!(switch_to(&config(), local).unwrap().is_none());
        assert!(switch_to(&config(), br#"{"clientEndpoint":""}"#)
            .unwrap()
            .is_none());
    }

    #[test]
    fn client_endpoint_switches_namespace_and_token_when_given() {
        let reply = br#"{"clientEndpoint":"https://edge.example/api/rivet/","clientNamespace":"prod","clientToken":"NEW-SECRET"}"#;
        let c = switch_to(&config(), reply).unwrap().unwrap();
        assert_eq!(c.endpoint(), "https://edge.example/api/rivet");
        assert_eq!(c.namespace(), "prod");
        assert_eq!(c.token().unwrap().expose(), "NEW-SECRET");
        assert!(!format!("{c:?}").contains("NEW-SECRET"));

        let only_endpoint = br#"{"clientEndpoint":"http://127.0.0.1:1"}"#;
        let c = switch_to(&config(), only_endpoint).unwrap().unwrap();
        assert_eq!(c.namespace(), "ns");
        assert_eq!(c.token().unwrap().expose(), "old-token");
    }

    #[test]
    fn a_bad_client_endpoint_is_a_typed_error_without_its_token() {
        let reply = br#"{"clientEndpoint":"ftp://ns:SECRET@h"}"#;
        let err = switch_to(&config(), reply).unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidInput {
                    field: "clientEndpoint",
                    ..
                }
            ),
            "{err}"
        );
        assert!(!err.to_string().contains("SECRET"), "{err}");
    }
}
