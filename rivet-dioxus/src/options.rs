//! [`UseActorOptions`]: what [`use_actor_with_options`](crate::use_actor_with_options) connects to.

use std::rc::Rc;

use rivet_core::manager::{ActorOptions, Addressing};
use rivet_core::{ActorKey, ConnectOptions, Result};
use serde_json::Value;

use crate::Input;

/// Attaches a params function to core's options under a tag.
type ParamsFn = Rc<dyn Fn(ActorOptions, &Value) -> Result<ActorOptions>>;

/// Options of [`use_actor_with_options`](crate::use_actor_with_options), mirroring React's
/// `useActor({ name, key, params, createWithInput, createInRegion, enabled })` plus get-only
/// and by-id addressing. Every field is an [`Input`]: a plain value or a signal, memo or
/// closure. When one changes, the hook releases its lease and acquires the new actor.
///
/// ```
/// use rivet_dioxus::UseActorOptions;
/// use serde_json::json;
///
/// let options = UseActorOptions::new("chatRoom", "general")
///     .params(json!({ "token": "secret", "user": "ada" }))
///     .enabled(true);
/// let by_id = UseActorOptions::for_id("counter", "lvxqsjez9bjqv841ny0yyuyagvbl00");
/// let existing = UseActorOptions::new("counter", ["a", "b"]).get_only(true);
/// # let _ = (options, by_id, existing);
/// ```
#[derive(Clone)]
pub struct UseActorOptions {
    name: Input<String>,
    key: Input<ActorKey>,
    actor_id: Option<Input<String>>,
    params: Option<Input<Value>>,
    params_fn: Option<(Input<Value>, ParamsFn)>,
    enabled: Input<bool>,
    get_only: Input<bool>,
    create_input: Option<Input<Value>>,
    region: Option<Input<String>>,
    connect: ConnectOptions,
}

impl std::fmt::Debug for UseActorOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UseActorOptions")
            .field("name", &self.name)
            .field("key", &self.key)
            .field("actor_id", &self.actor_id)
            .field("params", &self.params)
            .field("params_fn", &self.params_fn.as_ref().map(|(tag, _)| tag))
            .field("enabled", &self.enabled)
            .field("get_only", &self.get_only)
            .field("create_input", &self.create_input)
            .field("region", &self.region)
            .finish()
    }
}

impl UseActorOptions {
    /// Get-or-create the actor `name` with `key` (a string, a list of parts, or a signal of
    /// a string).
    pub fn new(name: impl Into<Input<String>>, key: impl Into<Input<ActorKey>>) -> Self {
        Self {
            name: name.into(),
            key: key.into(),
            actor_id: None,
            params: None,
            params_fn: None,
            enabled: Input::Value(true),
            get_only: Input::Value(false),
            create_input: None,
            region: None,
            connect: ConnectOptions::default(),
        }
    }

    /// The actor `name` with id `actor_id` (React's `getForId`).
    pub fn for_id(name: impl Into<Input<String>>, actor_id: impl Into<Input<String>>) -> Self {
        let mut options = Self::new(name, ActorKey::empty());
        options.actor_id = Some(actor_id.into());
        options
    }

    /// Static connection parameters (React's `params`), e.g. `json!({"token": t})` or a
    /// memo of one. A change reconnects.
    pub fn params(mut self, params: impl Into<Input<Value>>) -> Self {
        self.params = Some(params.into());
        self.params_fn = None;
        self
    }

    /// Parameters produced by an async function before every connection attempt (token
    /// refresh). `tag` stands for the function in the connection's identity: a different
    /// tag (e.g. the user id) reconnects with the newest function.
    ///
    /// ```
    /// use rivet_dioxus::UseActorOptions;
    /// use serde_json::json;
    ///
    /// let options = UseActorOptions::new("chatRoom", "general").params_fn(json!("ada"), || async {
    ///     Ok(json!({ "token": "secret", "user": "ada" }))
    /// });
    /// # let _ = options;
    /// ```
    #[cfg(not(target_arch = "wasm32"))]
    pub fn params_fn<F, Fut>(mut self, tag: impl Into<Input<Value>>, params: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + Clone + 'static,
        Fut: std::future::Future<Output = Result<Value>> + Send + 'static,
    {
        let make: ParamsFn = Rc::new(move |options: ActorOptions, tag: &Value| {
            options.params_fn(tag, params.clone())
        });
        self.params_fn = Some((tag.into(), make));
        self.params = None;
        self
    }

    /// Parameters produced by an async function before every connection attempt (token
    /// refresh). `tag` stands for the function in the connection's identity: a different
    /// tag (e.g. the user id) reconnects with the newest function.
    #[cfg(target_arch = "wasm32")]
    pub fn params_fn<F, Fut>(mut self, tag: impl Into<Input<Value>>, params: F) -> Self
    where
        F: Fn() -> Fut + Clone + 'static,
        Fut: std::future::Future<Output = Result<Value>> + 'static,
    {
        let make: ParamsFn = Rc::new(move |options: ActorOptions, tag: &Value| {
            options.params_fn(tag, params.clone())
        });
        self.params_fn = Some((tag.into(), make));
        self.params = None;
        self
    }

    /// Whether to connect at all (React's `enabled`); a disabled actor reports `Idle`.
    pub fn enabled(mut self, enabled: impl Into<Input<bool>>) -> Self {
        self.enabled = enabled.into();
        self
    }

    /// Only connect to an existing actor (`get` instead of `getOrCreate`).
    pub fn get_only(mut self, get_only: impl Into<Input<bool>>) -> Self {
        self.get_only = get_only.into();
        self
    }

    /// The input `createState(c, input)` receives if the actor is created (React's
    /// `createWithInput`).
    pub fn create_input(mut self, input: impl Into<Input<Value>>) -> Self {
        self.create_input = Some(input.into());
        self
    }

    /// The region to create the actor in (React's `createInRegion`).
    pub fn region(mut self, region: impl Into<Input<String>>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// How the connection behaves (reconnect policy, deadlines); the first user of an actor
    /// identity decides, as in [`ActorOptions::connect_options`].
    pub fn connect_options(mut self, options: ConnectOptions) -> Self {
        self.connect = options;
        self
    }

    /// Reads every input (tracked) and builds core's options.
    pub(crate) fn resolve(&self) -> Result<ActorOptions> {
        let name = self.name.get();
        let mut options = match &self.actor_id {
            Some(id) => ActorOptions::with_addressing(name, Addressing::Id { actor_id: id.get() }),
            None => {
                let mut options = ActorOptions::new(name, self.key.get());
                if let Some(input) = &self.create_input {
                    options = options.create_input(&input.get())?;
                }
                if let Some(region) = &self.region {
                    options = options.create_in_region(region.get());
                }
                if self.get_only.get() {
                    options = options.get_only();
                }
                options
            }
        };
        if let Some(params) = &self.params {
            options = options.params(&params.get())?;
        }
        if let Some((tag, make)) = &self.params_fn {
            options = make(options, &tag.get())?;
        }
        Ok(options
            .enabled(self.enabled.get())
            .connect_options(self.connect.clone()))
    }
}
