//! [`ActorOptions`]: what a component asks the manager for.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{json, Value};

use super::identity::{canonical_json, params_digest, ActorIdentity};
use crate::connection::{ConnParams, ConnectOptions};
use crate::key::ActorKey;
use crate::{Client, CreateOptions, Error, Result};

/// How the manager finds the actor.
#[derive(Debug, Clone, PartialEq)]
pub enum Addressing {
    /// By name and key, created on first use (`getOrCreate`), with this input and region.
    GetOrCreate {
        /// The actor key.
        key: ActorKey,
        /// The input `createState(c, input)` receives if the actor is created.
        input: Option<Value>,
        /// The region to create it in.
        region: Option<String>,
    },
    /// By name and key; the actor must exist (`get`).
    Get {
        /// The actor key.
        key: ActorKey,
    },
    /// By actor id (`getForId`).
    Id {
        /// The actor id.
        actor_id: String,
    },
}

/// Which actor to connect to and how: the argument of
/// [`ConnectionManager::acquire`](super::ConnectionManager::acquire), mirroring the options
/// of React's `useActor({ name, key, params, createWithInput, createInRegion, enabled })`.
///
/// Everything that changes which connection is meant — name, addressing mode, key, create
/// input and region, static params, the tag of a params function — is part of the
/// [`identity`](Self::identity). How the connection behaves ([`connect_options`](Self::connect_options))
/// is not: the first lease of an identity decides it.
///
/// ```
/// use rivet_core::manager::ActorOptions;
///
/// let counter = ActorOptions::new("counter", ["my-counter"]);
/// let existing = ActorOptions::new("chatRoom", "general").get_only();
/// let by_id = ActorOptions::for_id("counter", "lvxqsjez9bjqv841ny0yyuyagvbl00");
/// let later = ActorOptions::new("counter", "x").enabled(false);
/// assert!(!later.is_enabled());
/// ```
#[derive(Debug, Clone)]
pub struct ActorOptions {
    pub(crate) name: String,
    pub(crate) addressing: Addressing,
    pub(crate) params: ParamsSource,
    pub(crate) enabled: bool,
    pub(crate) connect: ConnectOptions,
}

/// Where a lease's connection parameters come from.
#[derive(Clone)]
pub(crate) enum ParamsSource {
    None,
    Static(Value),
    Dynamic { tag: Value, params: ConnParams },
}

impl std::fmt::Debug for ParamsSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamsSource::None => f.write_str("None"),
            ParamsSource::Static(v) => write!(f, "Static({})", params_digest(v)),
            ParamsSource::Dynamic { tag, .. } => write!(f, "Dynamic(tag {})", params_digest(tag)),
        }
    }
}

impl ActorOptions {
    /// Get-or-create the actor `name` with `key` (a string or a list of parts).
    pub fn new(name: impl Into<String>, key: impl Into<ActorKey>) -> Self {
        Self::with_addressing(
            name,
            Addressing::GetOrCreate {
                key: key.into(),
                input: None,
                region: None,
            },
        )
    }

    /// The actor with id `actor_id`.
    pub fn for_id(name: impl Into<String>, actor_id: impl Into<String>) -> Self {
        Self::with_addressing(
            name,
            Addressing::Id {
                actor_id: actor_id.into(),
            },
        )
    }

    /// Options with an explicit [`Addressing`].
    pub fn with_addressing(name: impl Into<String>, addressing: Addressing) -> Self {
        Self {
            name: name.into(),
            addressing,
            params: ParamsSource::None,
            enabled: true,
            connect: ConnectOptions::default(),
        }
    }

    /// Only connect to an existing actor (`get` instead of `getOrCreate`); the input and
    /// region are dropped. Does nothing for options addressing an id.
    pub fn get_only(mut self) -> Self {
        if let Addressing::GetOrCreate { key, .. } = &self.addressing {
            self.addressing = Addressing::Get { key: key.clone() };
        }
        self
    }

    /// The input passed to `createState(c, input)` if the actor is created (React's
    /// `createWithInput`). A different input is a different identity. Ignored unless the
    /// options get-or-create.
    pub fn create_input<T: Serialize + ?Sized>(mut self, input: &T) -> Result<Self> {
        let value = serde_json::to_value(input).map_err(|e| Error::encode("create input", e))?;
        if let Addressing::GetOrCreate { input, .. } = &mut self.addressing {
            *input = Some(value);
        }
        Ok(self)
    }

    /// The region to create the actor in (React's `createInRegion`). Ignored unless the
    /// options get-or-create.
    pub fn create_in_region(mut self, region: impl Into<String>) -> Self {
        if let Addressing::GetOrCreate { region: r, .. } = &mut self.addressing {
            *r = Some(region.into());
        }
        self
    }

    /// Static connection parameters (React's `params`). Object key order does not matter.
    pub fn params<P: Serialize + ?Sized>(mut self, params: &P) -> Result<Self> {
        let value =
            serde_json::to_value(params).map_err(|e| Error::encode("connection params", e))?;
        self.params = ParamsSource::Static(value);
        Ok(self)
    }

    /// Parameters produced by `params` before every connection attempt (token refresh).
    ///
    /// A function cannot be compared, so `tag` stands for it in the identity: leases with
    /// the same tag share one connection and the first one's function is used; give a
    /// different tag (e.g. the user id) when the function would produce different params.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn params_fn<T, F, Fut>(mut self, tag: &T, params: F) -> Result<Self>
    where
        T: Serialize + ?Sized,
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<Value>> + Send + 'static,
    {
        let tag = serde_json::to_value(tag).map_err(|e| Error::encode("params tag", e))?;
        self.params = ParamsSource::Dynamic {
            tag,
            params: ConnParams::Dynamic(Arc::new(move || Box::pin(params()))),
        };
        Ok(self)
    }

    /// Parameters produced by `params` before every connection attempt (token refresh).
    ///
    /// A function cannot be compared, so `tag` stands for it in the identity: leases with
    /// the same tag share one connection and the first one's function is used; give a
    /// different tag (e.g. the user id) when the function would produce different params.
    #[cfg(target_arch = "wasm32")]
    pub fn params_fn<T, F, Fut>(mut self, tag: &T, params: F) -> Result<Self>
    where
        T: Serialize + ?Sized,
        F: Fn() -> Fut + 'static,
        Fut: std::future::Future<Output = Result<Value>> + 'static,
    {
        let tag = serde_json::to_value(tag).map_err(|e| Error::encode("params tag", e))?;
        self.params = ParamsSource::Dynamic {
            tag,
            params: ConnParams::Dynamic(Arc::new(move || Box::pin(params()))),
        };
        Ok(self)
    }

    /// Whether to connect at all (React's `enabled`). A disabled lease opens nothing and
    /// reports [`ConnStatus::Idle`](crate::ConnStatus::Idle).
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// How the connection behaves (reconnect policy, deadlines, pings). Not part of the
    /// identity: the first lease of an identity decides.
    pub fn connect_options(mut self, options: ConnectOptions) -> Self {
        self.connect = options;
        self
    }

    /// The actor name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How the actor is found.
    pub fn addressing(&self) -> &Addressing {
        &self.addressing
    }

    /// Whether these options connect.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// The canonical identity: equal identities share one connection.
    ///
    /// ```
    /// use rivet_core::manager::ActorOptions;
    ///
    /// let a = ActorOptions::new("counter", "a");
    /// assert_eq!(a.identity(), ActorOptions::new("counter", ["a"]).identity());
    /// assert_ne!(a.identity(), ActorOptions::new("counter", "a").get_only().identity());
    /// assert_ne!(a.identity(), ActorOptions::new("counter", ["a", "b"]).identity());
    /// ```
    pub fn identity(&self) -> ActorIdentity {
        let (mode, address) = match &self.addressing {
            Addressing::GetOrCreate { key, input, region } => (
                "getOrCreate",
                json!({ "key": key.parts(), "input": input, "region": region }),
            ),
            Addressing::Get { key } => ("get", json!({ "key": key.parts() })),
            Addressing::Id { actor_id } => ("id", json!({ "id": actor_id })),
        };
        let params = match &self.params {
            ParamsSource::None => Value::Null,
            ParamsSource::Static(value) => json!({ "static": value }),
            ParamsSource::Dynamic { tag, .. } => json!({ "fn": tag }),
        };
        let shown_params = match &params {
            Value::Null => Value::Null,
            params => Value::String(params_digest(params)),
        };
        let identity = |params: Value| {
            canonical_json(&json!({
                "name": self.name,
                "mode": mode,
                "address": address,
                "params": params,
            }))
        };
        ActorIdentity::new(identity(params), identity(shown_params))
    }

    /// The stateless handle these options address, with static params attached.
    pub(crate) fn handle(&self, client: &Client) -> Result<crate::ActorHandle> {
        crate::client::validate_name(&self.name)?;
        let handle = match &self.addressing {
            Addressing::GetOrCreate { key, input, region } => {
                let mut create = CreateOptions::new();
                if let Some(input) = input {
                    create = create.input_value(input.clone());
                }
                if let Some(region) = region {
                    create = create.region(region.clone());
                }
                client.get_or_create_with(self.name.clone(), key.clone(), create)
            }
            Addressing::Get { key } => client.get(self.name.clone(), key.clone()),
            Addressing::Id { actor_id } => {
                if actor_id.is_empty() {
                    return Err(Error::invalid(
                        "actor id",
                        actor_id,
                        "must not be empty; pass the id returned by resolve() or create()",
                    ));
                }
                client.get_for_id(self.name.clone(), actor_id.clone())
            }
        };
        match &self.params {
            ParamsSource::Static(value) => handle.with_params(value),
            ParamsSource::None | ParamsSource::Dynamic { .. } => Ok(handle),
        }
    }

    /// The connect options with the params function attached.
    pub(crate) fn connect_options_for_lease(&self) -> ConnectOptions {
        let options = self.connect.clone();
        match &self.params {
            ParamsSource::Dynamic { params, .. } => options.params_source(params.clone()),
            ParamsSource::None | ParamsSource::Static(_) => options,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_key_and_one_part_list_are_one_identity() {
        assert_eq!(
            ActorOptions::new("counter", "a").identity(),
            ActorOptions::new("counter", vec!["a"]).identity()
        );
    }

    #[test]
    fn params_key_order_does_not_matter() {
        let a = ActorOptions::new("room", "k")
            .params(&json!({"a": 1, "b": {"d": 2, "c": 3}}))
            .unwrap();
        let b = ActorOptions::new("room", "k")
            .params(&json!({"b": {"c": 3, "d": 2}, "a": 1}))
            .unwrap();
        assert_eq!(a.identity(), b.identity());
    }

    #[test]
    fn input_region_mode_and_params_change_the_identity() {
        let base = ActorOptions::new("room", "k");
        let with_input = base.clone().create_input(&json!({"n": 1})).unwrap();
        let other_input = base.clone().create_input(&json!({"n": 2})).unwrap();
        let region = base.clone().create_in_region("default");
        let get = base.clone().get_only();
        let params = base.clone().params(&json!({"user": "a"})).unwrap();
        let ids = [
            base.identity(),
            with_input.identity(),
            other_input.identity(),
            region.identity(),
            get.identity(),
            params.identity(),
        ];
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn keys_with_commas_are_not_confused_with_split_keys() {
        assert_ne!(
            ActorOptions::new("room", vec!["a,b"]).identity(),
            ActorOptions::new("room", vec!["a", "b"]).identity()
        );
    }

    #[test]
    fn empty_key_and_key_of_one_empty_part_differ() {
        assert_ne!(
            ActorOptions::new("room", ActorKey::empty()).identity(),
            ActorOptions::new("room", vec![""]).identity()
        );
    }

    #[test]
    fn connect_options_and_enabled_are_not_identity() {
        let a = ActorOptions::new("room", "k");
        let b = a
            .clone()
            .enabled(false)
            .connect_options(ConnectOptions::new().max_queued_actions(3));
        assert_eq!(a.identity(), b.identity());
    }
}
