//! Addressing: which actor a handle means (name and [`Target`]) and how a request reaches it
//! right now: by the query gateway (name and key in the URL) or by id, resolving the key
//! through the REST API when the query form cannot carry it. Owns the resolved-id cache.

use std::sync::{Arc, Mutex, PoisonError};

use crate::gateway::{self, Route};
use crate::key::ActorKey;
use crate::protocol::{codec, compat, Encoding};
use crate::rest::{self, CreateSpec};
use crate::shared::ClientInner;
use crate::{Error, Result, ServerError};

/// How a handle finds its actor.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    Get { key: ActorKey },
    GetOrCreate { key: ActorKey, spec: CreateSpec },
    Id { actor_id: String },
}

/// The URL of a raw request or socket, and the actor id when it is routed by header.
pub(crate) struct RawTarget {
    pub url: String,
    pub direct_id: Option<String>,
}

/// An actor as one handle addresses it, with the id the REST API resolved it to once known.
pub(crate) struct Address {
    client: Arc<ClientInner>,
    name: String,
    target: Target,
    /// The actor id, once known, for keys and inputs the query gateway cannot carry.
    resolved: Mutex<Option<String>>,
}

impl Clone for Address {
    /// The same actor, with a copy of the resolved id (not shared from then on).
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            name: self.name.clone(),
            target: self.target.clone(),
            resolved: Mutex::new(self.cached_id()),
        }
    }
}

impl Address {
    pub(crate) fn new(client: Arc<ClientInner>, name: String, target: Target) -> Self {
        Self {
            client,
            name,
            target,
            resolved: Mutex::new(None),
        }
    }

    pub(crate) fn client(&self) -> &Arc<ClientInner> {
        &self.client
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn target(&self) -> &Target {
        &self.target
    }

    /// A short description for errors: `counter ["a"]` or `counter #id`.
    pub(crate) fn describe(&self) -> String {
        match &self.target {
            Target::Get { key } | Target::GetOrCreate { key, .. } => {
                format!("{} {}", self.name, key)
            }
            Target::Id { actor_id } => format!("{} #{}", self.name, actor_id),
        }
    }

    /// The actor id: looked up (`get`), created if needed (`get_or_create`) or known.
    pub(crate) async fn resolve(&self) -> Result<String> {
        validate_name(&self.name)?;
        if let Some(id) = self.cached_id() {
            return Ok(id);
        }
        let id = match &self.target {
            Target::Id { actor_id } => return Ok(actor_id.clone()),
            Target::Get { key } => rest::find_by_key(&self.client, &self.name, key)
                .await?
                .ok_or_else(|| self.not_found())?,
            Target::GetOrCreate { key, spec } => {
                rest::get_or_create(&self.client, &self.name, key, spec).await?
            }
        };
        *self.lock_resolved() = Some(id.clone());
        Ok(id)
    }

    pub(crate) fn cached_id(&self) -> Option<String> {
        self.lock_resolved().clone()
    }

    fn lock_resolved(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        // The cache holds a plain String; a panic elsewhere cannot leave it half-written.
        self.resolved.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Drops the id looked up through the REST API, so the next call looks it up again.
    pub(crate) fn forget_resolved(&self) {
        if !matches!(self.target, Target::Id { .. }) {
            *self.lock_resolved() = None;
        }
    }

    fn not_found(&self) -> Error {
        let mut err = ServerError::new(
            "actor",
            "not_found",
            format!("no actor {} exists", self.describe()),
        );
        err.status = Some(404);
        Error::NotFound(Box::new(err))
    }

    /// How the gateway should find the actor right now. Keys the query gateway would split
    /// (and inputs too large for a URL) go through the REST API and are addressed by id.
    pub(crate) async fn route(&self) -> Result<Route> {
        validate_name(&self.name)?;
        self.client.ensure_metadata().await?;
        let name = self.name.clone();
        match &self.target {
            Target::Id { actor_id } => Ok(Route::Direct {
                actor_id: actor_id.clone(),
            }),
            Target::Get { key } => match key.query_form() {
                Some(key_query) => Ok(Route::QueryGet { name, key_query }),
                None => Ok(Route::Direct {
                    actor_id: self.resolve().await?,
                }),
            },
            Target::GetOrCreate { key, spec } => {
                let input = match &spec.input {
                    Some(input) => {
                        let cbor = codec::cbor_encode(&compat::to_wire(input, Encoding::Cbor))?;
                        if cbor.len() > self.client.config().max_query_input_size() {
                            None
                        } else {
                            Some(Some(crate::b64::encode_url_safe_no_pad(&cbor)))
                        }
                    }
                    None => Some(None),
                };
                match (key.query_form(), input) {
                    (Some(key_query), Some(input)) => Ok(Route::QueryGetOrCreate {
                        name,
                        key_query,
                        input,
                        region: spec.region.clone(),
                    }),
                    _ => Ok(Route::Direct {
                        actor_id: self.resolve().await?,
                    }),
                }
            }
        }
    }

    /// The `http(s)://` URL of `path` inside the actor.
    pub(crate) async fn url(&self, path: &str, query: Option<&str>) -> Result<String> {
        let route = self.route().await?;
        Ok(gateway::actor_url(
            self.client.config(),
            &route,
            path,
            query,
        ))
    }

    /// Where a raw request or socket to `path` goes. With `skip_ready_wait`, query URLs get
    /// `rvt-skip-ready-wait=true`, and an actor known by id is addressed by header instead
    /// of through `/gateway/{id}` (the JS client's form; the engine answers it only in
    /// skip-ready-wait mode).
    pub(crate) async fn raw_target(
        &self,
        path: &str,
        query: Option<&str>,
        skip_ready_wait: bool,
    ) -> Result<RawTarget> {
        let route = self.route().await?;
        let config = self.client.config();
        if !skip_ready_wait {
            return Ok(RawTarget {
                url: gateway::actor_url(config, &route, path, query),
                direct_id: None,
            });
        }
        Ok(match route {
            Route::Direct { actor_id } => {
                let mut url = format!("{}{path}", config.endpoint());
                if let Some(query) = query.filter(|q| !q.is_empty()) {
                    url.push('?');
                    url.push_str(query);
                }
                RawTarget {
                    url,
                    direct_id: Some(actor_id),
                }
            }
            route => RawTarget {
                // Query URLs always end in `rvt-*` parameters.
                url: format!(
                    "{}&rvt-skip-ready-wait=true",
                    gateway::actor_url(config, &route, path, query)
                ),
                direct_id: None,
            },
        })
    }
}

pub(crate) fn validate_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid(
            "actor name",
            name,
            "must not be empty; use the name the actor is registered under in setup({ use })",
        ));
    }
    Ok(())
}
