//! [`ActorOptions`]: what a component asks the manager for.

use std::marker::PhantomData;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{json, Value};

use crate::addressing::Target;
use crate::connection::{ConnParams, ConnectOptions};
use crate::identity::{canonical_json, params_digest, ActorIdentity};
use crate::key::ActorKey;
use crate::rest::CreateSpec;
use crate::shared::ClientInner;
use crate::typed::{Actor, ActorKind, Handle};
use crate::{ActorHandle, Error, Result};

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
/// `H` is the handle type of the actor addressed, as with
/// [`Client::get_or_create`](crate::Client::get_or_create):
/// `ActorOptions::new(Counter, key)` for a declared actor (an `ActorOptions<Handle<Counter>>`,
/// whose [`params`](Self::params) and [`create_input`](Self::create_input) take the types the
/// declaration names), `ActorOptions::new("counter", key)` for a name (an untyped
/// `ActorOptions`, taking any serializable params and input).
///
/// # Identity
/// What says *which* connection is meant is the [`identity`](Self::identity): leases of one
/// identity share one socket. It is made of the actor name, the addressing mode (get-or-create,
/// get, by id), the key or id, the static params and the tag of a params function.
///
/// Not part of it: the create input and region (they only matter when the actor is created,
/// and a get-or-create of the same key reaches the same actor whatever they are; the first
/// lease's values are used, as React ignores input changes after creation),
/// [`enabled`](Self::enabled), and how the connection behaves
/// ([`connect_options`](Self::connect_options): the first lease of an identity decides it).
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
///
/// Typed, for a declared actor:
///
/// ```
/// # use serde::Serialize;
/// #[derive(Serialize)]
/// pub struct ChatParams { pub token: String }
///
/// #[rivet_core::actor(name = "chatRoom")]
/// pub trait ChatRoom {
///     type Params = ChatParams;
///     fn send_message(text: String) -> ();
/// }
///
/// use rivet_core::manager::ActorOptions;
/// let options = ActorOptions::new(ChatRoom, "general").params(&ChatParams { token: "t".into() })?;
/// assert_eq!(options.name(), "chatRoom");
/// # Ok::<(), rivet_core::Error>(())
/// ```
pub struct ActorOptions<H = ActorHandle> {
    pub(crate) name: String,
    pub(crate) addressing: Addressing,
    pub(crate) params: ParamsSource,
    pub(crate) enabled: bool,
    pub(crate) connect: ConnectOptions,
    handle: PhantomData<fn() -> H>,
}

impl<H> Clone for ActorOptions<H> {
    fn clone(&self) -> Self {
        Self {
            name: self.name.clone(),
            addressing: self.addressing.clone(),
            params: self.params.clone(),
            enabled: self.enabled,
            connect: self.connect.clone(),
            handle: PhantomData,
        }
    }
}

impl<H> std::fmt::Debug for ActorOptions<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActorOptions")
            .field("name", &self.name)
            .field("addressing", &self.addressing)
            .field("params", &self.params)
            .field("enabled", &self.enabled)
            .field("connect", &self.connect)
            .finish()
    }
}

/// What a hook's options closure may return: options, or the error of building them (a
/// `params(..)?` that failed to serialize).
///
/// ```
/// use rivet_core::manager::{ActorOptions, IntoActorOptions};
///
/// let plain = ActorOptions::new("counter", "a").into_actor_options()?;
/// let built = ActorOptions::new("chatRoom", "a").params(&serde_json::json!({"token": "t"}));
/// assert_eq!(built.into_actor_options()?.name(), "chatRoom");
/// # let _ = plain;
/// # Ok::<(), rivet_core::Error>(())
/// ```
pub trait IntoActorOptions<H> {
    /// The options, or why they could not be built.
    fn into_actor_options(self) -> Result<ActorOptions<H>>;
}

impl<H> IntoActorOptions<H> for ActorOptions<H> {
    fn into_actor_options(self) -> Result<ActorOptions<H>> {
        Ok(self)
    }
}

impl<H> IntoActorOptions<H> for Result<ActorOptions<H>> {
    fn into_actor_options(self) -> Result<ActorOptions<H>> {
        self
    }
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
    /// Get-or-create `actor` (a declared actor's unit struct, or a name) with `key` (a string
    /// or a list of parts).
    pub fn new<K: ActorKind>(actor: K, key: impl Into<ActorKey>) -> ActorOptions<K::Handle> {
        Self::with_addressing(
            actor,
            Addressing::GetOrCreate {
                key: key.into(),
                input: None,
                region: None,
            },
        )
    }

    /// The actor with id `actor_id`; `actor` is a declared actor's unit struct or a name.
    pub fn for_id<K: ActorKind>(actor: K, actor_id: impl Into<String>) -> ActorOptions<K::Handle> {
        Self::with_addressing(
            actor,
            Addressing::Id {
                actor_id: actor_id.into(),
            },
        )
    }

    /// Options with an explicit [`Addressing`].
    pub fn with_addressing<K: ActorKind>(
        actor: K,
        addressing: Addressing,
    ) -> ActorOptions<K::Handle> {
        ActorOptions {
            name: actor.actor_name().into_owned(),
            addressing,
            params: ParamsSource::None,
            enabled: true,
            connect: ConnectOptions::default(),
            handle: PhantomData,
        }
    }

    /// The input passed to `createState(c, input)` if the actor is created (React's
    /// `createWithInput`). Not part of the [identity](Self::identity): only the first
    /// lease's input matters, the actor being created once. Ignored unless the options
    /// get-or-create.
    pub fn create_input<T: Serialize + ?Sized>(self, input: &T) -> Result<Self> {
        self.create_input_of(input)
    }

    /// Static connection parameters (React's `params`). Object key order does not matter.
    pub fn params<P: Serialize + ?Sized>(self, params: &P) -> Result<Self> {
        self.params_of(params)
    }
}

impl<A: Actor> ActorOptions<Handle<A>> {
    /// The input `A`'s `createState(c, input)` receives if the actor is created. Not part of
    /// the [identity](Self::identity): only the first lease's input matters, the actor being
    /// created once. Ignored unless the options get-or-create.
    pub fn create_input(self, input: &A::Input) -> Result<Self> {
        self.create_input_of(input)
    }

    /// The connection params `A` declares, sent with every connection attempt and every
    /// stateless call. Object key order does not matter.
    pub fn params(self, params: &A::Params) -> Result<Self> {
        self.params_of(params)
    }
}

impl<H> ActorOptions<H> {
    /// Only connect to an existing actor (`get` instead of `getOrCreate`); the input and
    /// region are dropped. Does nothing for options addressing an id.
    pub fn get_only(mut self) -> Self {
        if let Addressing::GetOrCreate { key, .. } = &self.addressing {
            self.addressing = Addressing::Get { key: key.clone() };
        }
        self
    }

    fn create_input_of<T: Serialize + ?Sized>(mut self, input: &T) -> Result<Self> {
        let value = serde_json::to_value(input).map_err(|e| Error::encode("create input", e))?;
        if let Addressing::GetOrCreate { input, .. } = &mut self.addressing {
            *input = Some(value);
        }
        Ok(self)
    }

    /// The region to create the actor in (React's `createInRegion`). Not part of the
    /// [identity](Self::identity), like the create input. Ignored unless the options
    /// get-or-create.
    pub fn create_in_region(mut self, region: impl Into<String>) -> Self {
        if let Addressing::GetOrCreate { region: r, .. } = &mut self.addressing {
            *r = Some(region.into());
        }
        self
    }

    fn params_of<P: Serialize + ?Sized>(mut self, params: &P) -> Result<Self> {
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
    /// The lease's [`stateless_handle`](super::Lease::stateless_handle) calls it too, so
    /// stateless calls carry the same params.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn params_fn<T, P, F, Fut>(mut self, tag: &T, params: F) -> Result<Self>
    where
        T: Serialize + ?Sized,
        P: Serialize,
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<P>> + Send + 'static,
    {
        let tag = serde_json::to_value(tag).map_err(|e| Error::encode("params tag", e))?;
        let params = Arc::new(params);
        self.params = ParamsSource::Dynamic {
            tag,
            params: ConnParams::Dynamic(Arc::new(move || {
                let made = params();
                Box::pin(async move {
                    let value = made.await?;
                    serde_json::to_value(&value).map_err(|e| Error::encode("connection params", e))
                })
            })),
        };
        Ok(self)
    }

    /// Parameters produced by `params` before every connection attempt (token refresh).
    ///
    /// A function cannot be compared, so `tag` stands for it in the identity: leases with
    /// the same tag share one connection and the first one's function is used; give a
    /// different tag (e.g. the user id) when the function would produce different params.
    /// The lease's [`stateless_handle`](super::Lease::stateless_handle) calls it too, so
    /// stateless calls carry the same params.
    #[cfg(target_arch = "wasm32")]
    pub fn params_fn<T, P, F, Fut>(mut self, tag: &T, params: F) -> Result<Self>
    where
        T: Serialize + ?Sized,
        P: Serialize,
        F: Fn() -> Fut + 'static,
        Fut: std::future::Future<Output = Result<P>> + 'static,
    {
        let tag = serde_json::to_value(tag).map_err(|e| Error::encode("params tag", e))?;
        let params = Arc::new(params);
        self.params = ParamsSource::Dynamic {
            tag,
            params: ConnParams::Dynamic(Arc::new(move || {
                let made = params();
                Box::pin(async move {
                    let value = made.await?;
                    serde_json::to_value(&value).map_err(|e| Error::encode("connection params", e))
                })
            })),
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
            // The create input and region only matter when the actor is created: the same
            // key reaches the same actor whatever they are, so they do not make another
            // connection (a reactive input would otherwise reopen the socket on each change).
            Addressing::GetOrCreate { key, .. } => ("getOrCreate", json!({ "key": key.parts() })),
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
    pub(crate) fn handle(&self, client: &Arc<ClientInner>) -> Result<crate::ActorHandle> {
        crate::addressing::validate_name(&self.name)?;
        let handle = |target| ActorHandle::new(client.clone(), self.name.clone(), target);
        let handle = match &self.addressing {
            Addressing::GetOrCreate { key, input, region } => handle(Target::GetOrCreate {
                key: key.clone(),
                spec: CreateSpec {
                    input: input.clone(),
                    region: region.clone(),
                },
            }),
            Addressing::Get { key } => handle(Target::Get { key: key.clone() }),
            Addressing::Id { actor_id } => {
                if actor_id.is_empty() {
                    return Err(Error::invalid(
                        "actor id",
                        actor_id,
                        "must not be empty; pass the id returned by resolve() or create()",
                    ));
                }
                handle(Target::Id {
                    actor_id: actor_id.clone(),
                })
            }
        };
        match &self.params {
            ParamsSource::Static(value) => handle.with_params(value),
            ParamsSource::None | ParamsSource::Dynamic { .. } => Ok(handle),
        }
    }

    /// The params function, if the params come from one.
    pub(crate) fn params_function(&self) -> Option<crate::connection::ParamsFn> {
        match &self.params {
            ParamsSource::Dynamic {
                params: ConnParams::Dynamic(params),
                ..
            } => Some(params.clone()),
            _ => None,
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
    fn mode_and_params_change_the_identity() {
        let base = ActorOptions::new("room", "k");
        let get = base.clone().get_only();
        let params = base.clone().params(&json!({"user": "a"})).unwrap();
        let other_params = base.clone().params(&json!({"user": "b"})).unwrap();
        let ids = [
            base.identity(),
            get.identity(),
            params.identity(),
            other_params.identity(),
        ];
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn create_input_and_region_are_not_identity() {
        let base = ActorOptions::new("room", "k");
        let with_input = base.clone().create_input(&json!({"n": 1})).unwrap();
        let other_input = base.clone().create_input(&json!({"n": 2})).unwrap();
        let region = base.clone().create_in_region("default");
        assert_eq!(base.identity(), with_input.identity());
        assert_eq!(base.identity(), other_input.identity());
        assert_eq!(base.identity(), region.identity());
    }

    struct ChatRoom;
    impl Actor for ChatRoom {
        const NAME: &'static str = "chatRoom";
        type Params = Value;
        type Input = ();
    }

    #[test]
    fn a_declared_actor_and_its_name_are_one_identity() {
        let typed = ActorOptions::new(ChatRoom, "k")
            .params(&json!({"token": "t"}))
            .unwrap();
        let untyped = ActorOptions::new("chatRoom", "k")
            .params(&json!({"token": "t"}))
            .unwrap();
        assert_eq!(typed.identity(), untyped.identity());
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
