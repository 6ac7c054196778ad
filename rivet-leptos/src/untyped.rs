//! The untyped hooks, for actors without a declaration: [`use_actor_untyped`] and
//! [`use_actor_with_options`] name the actor by a string and return [`UseActorReturn`].

use std::future::Future;

use leptos::prelude::*;
use rivet_core::manager::ActorOptions;
use rivet_core::{ActorConnection, ActorHandle, ActorKey, ConnStatus, ConnectOptions};
use rivet_core::{ConnectionState, Error};
use serde_json::Value;

use crate::engine::Core;
use crate::platform::{self, ConnStorage, MaybeSend, MaybeSendSync, ParamsFn};

/// Options of [`use_actor_with_options`], mirroring React's `useActor({ name, key, params,
/// createWithInput, createInRegion, enabled })`. Every setter that takes
/// `impl Into<Signal<_>>` is reactive: when the value changes so that a different
/// connection is meant (see [`ActorOptions::identity`]), the hook releases the old one and
/// connects the new one.
///
/// ```
/// use leptos::prelude::*;
/// use rivet_leptos::UseActorOptions;
///
/// # let owner = Owner::new(); owner.set();
/// let room = RwSignal::new("general".to_owned());
/// let user = RwSignal::new("ada".to_owned());
/// let options = UseActorOptions::new("chatRoom", "placeholder")
///     .key(Signal::derive(move || room.get().into()))
///     .params(Signal::derive(move || serde_json::json!({ "token": "secret", "user": user.get() })))
///     .enabled(Signal::derive(move || !user.get().is_empty()));
/// ```
#[derive(Clone)]
pub struct UseActorOptions {
    name: Signal<String>,
    key: Signal<ActorKey>,
    actor_id: Signal<Option<String>>,
    get_only: Signal<bool>,
    create_input: Signal<Option<Value>>,
    region: Signal<Option<String>>,
    params: Signal<Option<Value>>,
    params_fn: Option<(Signal<Value>, ParamsFn)>,
    enabled: Signal<bool>,
    connect: ConnectOptions,
}

impl std::fmt::Debug for UseActorOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UseActorOptions")
            .field("name", &self.name.get_untracked())
            .field("key", &self.key.get_untracked())
            .field("enabled", &self.enabled.get_untracked())
            .finish_non_exhaustive()
    }
}

impl UseActorOptions {
    /// Get-or-create the actor `name` with `key` (a string or a list of parts), enabled, no
    /// params. Make either reactive with [`name`](Self::name) / [`key`](Self::key).
    ///
    /// ```
    /// # let owner = leptos::prelude::Owner::new(); owner.set();
    /// let options = rivet_leptos::UseActorOptions::new("counter", ["org", "room-1"]);
    /// ```
    pub fn new(name: impl Into<String>, key: impl Into<ActorKey>) -> Self {
        Self {
            name: Signal::stored(name.into()),
            key: Signal::stored(key.into()),
            actor_id: Signal::stored(None),
            get_only: Signal::stored(false),
            create_input: Signal::stored(None),
            region: Signal::stored(None),
            params: Signal::stored(None),
            params_fn: None,
            enabled: Signal::stored(true),
            connect: ConnectOptions::default(),
        }
    }

    /// The actor with id `actor_id` (React: `getForId`); the key is then ignored.
    ///
    /// ```
    /// # let owner = leptos::prelude::Owner::new(); owner.set();
    /// let options = rivet_leptos::UseActorOptions::for_id("counter", "lvxqsjez9bjqv841ny0yy");
    /// ```
    pub fn for_id(name: impl Into<String>, actor_id: impl Into<Signal<String>>) -> Self {
        let actor_id = actor_id.into();
        let mut options = Self::new(name, ActorKey::empty());
        options.actor_id = Signal::derive(move || Some(actor_id.get()));
        options
    }

    /// The actor name, reactively.
    ///
    /// ```
    /// # use leptos::prelude::*;
    /// # let owner = Owner::new(); owner.set();
    /// let name = RwSignal::new("counter".to_owned());
    /// let options = rivet_leptos::UseActorOptions::new("", "k").name(name);
    /// ```
    pub fn name(mut self, name: impl Into<Signal<String>>) -> Self {
        self.name = name.into();
        self
    }

    /// The actor key, reactively (`"room"`, `["org", "room"]` and `Vec<String>` convert into
    /// an [`ActorKey`]).
    ///
    /// ```
    /// # use leptos::prelude::*;
    /// # let owner = Owner::new(); owner.set();
    /// let room = RwSignal::new("general".to_owned());
    /// let options = rivet_leptos::UseActorOptions::new("chatRoom", "")
    ///     .key(Signal::derive(move || room.get().into()));
    /// ```
    pub fn key(mut self, key: impl Into<Signal<ActorKey>>) -> Self {
        self.key = key.into();
        self
    }

    /// Only connect to an existing actor (`get` instead of `getOrCreate`).
    ///
    /// ```
    /// # let owner = leptos::prelude::Owner::new(); owner.set();
    /// let options = rivet_leptos::UseActorOptions::new("chatRoom", "general").get_only(true);
    /// ```
    pub fn get_only(mut self, get_only: impl Into<Signal<bool>>) -> Self {
        self.get_only = get_only.into();
        self
    }

    /// The input `createState(c, input)` receives if the actor is created (React's
    /// `createWithInput`); a different input is a different connection.
    ///
    /// ```
    /// # let owner = leptos::prelude::Owner::new(); owner.set();
    /// let options = rivet_leptos::UseActorOptions::new("withInput", "k")
    ///     .create_input(serde_json::json!({ "start": 10 }));
    /// ```
    pub fn create_input(mut self, input: impl Into<Signal<Value>>) -> Self {
        let input = input.into();
        self.create_input = Signal::derive(move || Some(input.get()));
        self
    }

    /// The region to create the actor in (React's `createInRegion`).
    ///
    /// ```
    /// # let owner = leptos::prelude::Owner::new(); owner.set();
    /// let options = rivet_leptos::UseActorOptions::new("counter", "k").create_in_region("default");
    /// ```
    pub fn create_in_region(mut self, region: impl Into<Signal<String>>) -> Self {
        let region = region.into();
        self.region = Signal::derive(move || Some(region.get()));
        self
    }

    /// Connection parameters (React's `params`), reactively: new params reconnect.
    ///
    /// ```
    /// # let owner = leptos::prelude::Owner::new(); owner.set();
    /// let options = rivet_leptos::UseActorOptions::new("chatRoom", "general")
    ///     .params(serde_json::json!({ "token": "secret", "user": "ada" }));
    /// ```
    pub fn params(mut self, params: impl Into<Signal<Value>>) -> Self {
        let params = params.into();
        self.params = Signal::derive(move || Some(params.get()));
        self
    }

    /// Parameters produced by `params` before every connection attempt (a fresh token).
    /// A function cannot be compared, so `tag` stands for it in the identity: a new tag
    /// (e.g. the signed-in user's id) reconnects.
    ///
    /// ```
    /// # let owner = leptos::prelude::Owner::new(); owner.set();
    /// let options = rivet_leptos::UseActorOptions::new("chatRoom", "general").params_fn(
    ///     serde_json::json!("ada"),
    ///     || async { Ok(serde_json::json!({ "token": "secret", "user": "ada" })) },
    /// );
    /// ```
    pub fn params_fn<F, Fut>(mut self, tag: impl Into<Signal<Value>>, params: F) -> Self
    where
        F: Fn() -> Fut + MaybeSendSync + 'static,
        Fut: Future<Output = rivet_core::Result<Value>> + MaybeSend + 'static,
    {
        self.params_fn = Some((tag.into(), platform::params_fn(params)));
        self
    }

    /// Whether to connect at all (React's `enabled`); while false the hook holds no
    /// connection and reports `Idle`.
    ///
    /// ```
    /// # use leptos::prelude::*;
    /// # let owner = Owner::new(); owner.set();
    /// let signed_in = RwSignal::new(false);
    /// let options = rivet_leptos::UseActorOptions::new("counter", "k").enabled(signed_in);
    /// ```
    pub fn enabled(mut self, enabled: impl Into<Signal<bool>>) -> Self {
        self.enabled = enabled.into();
        self
    }

    /// How the connection behaves (reconnect policy, deadlines); the first user of a
    /// shared connection decides. Not reactive.
    ///
    /// ```
    /// # let owner = leptos::prelude::Owner::new(); owner.set();
    /// let options = rivet_leptos::UseActorOptions::new("counter", "k")
    ///     .connect_options(rivet_core::ConnectOptions::new().max_queued_actions(10));
    /// ```
    pub fn connect_options(mut self, options: ConnectOptions) -> Self {
        self.connect = options;
        self
    }

    /// Reads every reactive input (tracking them) into core options.
    fn build(&self) -> rivet_core::Result<ActorOptions> {
        let name = self.name.get();
        let mut options = match self.actor_id.get() {
            Some(id) => ActorOptions::for_id(name, id),
            None => {
                let mut options = ActorOptions::new(name, self.key.get());
                if let Some(input) = self.create_input.get() {
                    options = options.create_input(&input)?;
                }
                if let Some(region) = self.region.get() {
                    options = options.create_in_region(region);
                }
                if self.get_only.get() {
                    options = options.get_only();
                }
                options
            }
        };
        if let Some(params) = self.params.get() {
            options = options.params(&params)?;
        }
        if let Some((tag, params)) = &self.params_fn {
            let params = params.clone();
            options = options.params_fn(&tag.get(), move || params())?;
        }
        Ok(options
            .enabled(self.enabled.get())
            .connect_options(self.connect.clone()))
    }
}

/// What [`use_actor_untyped`] and [`use_actor_with_options`] return: signals to read in the
/// view, `Copy` so it can be passed to [`use_event_untyped`](crate::use_event_untyped) and
/// [`use_actor_action`](crate::use_actor_action) and moved into closures freely. The typed
/// [`UseActor`](crate::UseActor) has the same signals as methods.
///
/// ```no_run
/// use leptos::prelude::*;
/// use rivet_leptos::{use_actor_untyped, UseActorReturn};
///
/// #[component]
/// fn Status() -> impl IntoView {
///     let UseActorReturn { status, error, .. } = use_actor_untyped("counter", "demo");
///     view! {
///         <p>{move || status.get().as_str()}</p>
///         <p>{move || error.get().map(|e| e.to_string())}</p>
///     }
/// }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct UseActorReturn {
    /// The whole connection state (status, attempt, last error, retry delay, ids).
    pub state: Signal<ConnectionState>,
    /// The phase: `Idle`, `Connecting`, `Connected`, `Disconnected` (React's `connStatus`).
    pub status: Signal<ConnStatus>,
    /// Whether the connection is `Connected`.
    pub is_connected: Signal<bool>,
    /// The last error: why the last socket or attempt ended (e.g. the actor rejected the
    /// params), why the hook could not connect at all (no client provided, invalid
    /// options), or a connection-level error the server sent while connected (reported at
    /// once, like React's `onError`). Cleared when a socket reaches `Connected`.
    pub error: Signal<Option<Error>>,
    /// The shared connection, for calling actions (React's `actor.connection`); `None`
    /// while disabled, before mounting and under server rendering. Calls made before it is
    /// connected wait in its queue.
    pub connection: Signal<Option<ActorConnection>, ConnStorage>,
    /// The stateless handle (HTTP actions, queues, raw fetch) of the current actor, with the
    /// params the connection uses (a params function's value once it resolved).
    pub handle: Signal<Option<ActorHandle>, ConnStorage>,
    pub(crate) core: Core,
}

impl UseActorReturn {
    pub(crate) fn from_core(core: Core) -> Self {
        Self {
            state: core.state.into(),
            status: core.status(),
            is_connected: core.is_connected(),
            error: core.error(),
            connection: core.connection.into(),
            handle: core.handle.into(),
            core,
        }
    }

    /// Connects again at once after a terminal error, or skips a scheduled retry's wait (a
    /// healthy connection is left as it is);
    /// when the hook could not take a connection at all, tries that again.
    ///
    /// ```no_run
    /// # use leptos::prelude::*;
    /// # #[component] fn C() -> impl IntoView {
    /// let actor = rivet_leptos::use_actor_untyped("counter", "demo");
    /// view! { <button on:click=move |_| actor.reconnect()>"retry"</button> }
    /// # }
    /// ```
    pub fn reconnect(&self) {
        self.core.reconnect();
    }
}

/// Connects to the actor `name` with `key` (get-or-create) while the component lives: the
/// untyped form of [`use_actor`](crate::use_actor), for an actor without a declaration
/// (React's `useActor({ name, key })`). See [`use_actor_with_options`] for params,
/// `enabled`, get-only, create input, region, by-id and reactive identities.
///
/// ```no_run
/// use leptos::prelude::*;
/// use rivet_leptos::{use_actor_untyped, use_actor_action, use_latest_event_untyped};
///
/// #[component]
/// fn Counter() -> impl IntoView {
///     let counter = use_actor_untyped("counter", "demo");
///     let increment = use_actor_action::<(i64,), i64>(&counter, "increment");
///     let latest = use_latest_event_untyped(&counter, "newCount");
///     view! {
///         <p>{move || counter.status.get().as_str()}</p>
///         <p>{move || latest.get().and_then(|e| e.arg::<i64>(0).ok())}</p>
///         <button on:click=move |_| { increment.dispatch((1,)); }>"+1"</button>
///     }
/// }
/// ```
///
/// # Server-side rendering
/// Under the `ssr` feature effects do not run, so the hook opens nothing, holds no browser
/// objects and reports `Idle` with no connection; hydration starts from the same `Idle`
/// state and connects in the browser.
#[track_caller]
#[doc(alias = "useActor")]
pub fn use_actor_untyped(name: impl Into<String>, key: impl Into<ActorKey>) -> UseActorReturn {
    use_actor_with_options(UseActorOptions::new(name, key))
}

/// [`use_actor_untyped`] with [`UseActorOptions`]: reactive name, key, params (static or an
/// async function), `enabled`, get-only, create input and region, or an actor id. When the
/// identity changes the hook releases the old connection and acquires the new one; the
/// returned signals follow. For a declared actor, [`use_actor_with`](crate::use_actor_with)
/// takes one closure instead.
///
/// ```no_run
/// use leptos::prelude::*;
/// use rivet_leptos::{use_actor_with_options, UseActorOptions};
///
/// #[component]
/// fn Room(room: Signal<String>, user: Signal<String>) -> impl IntoView {
///     let chat = use_actor_with_options(
///         UseActorOptions::new("chatRoom", "")
///             .key(Signal::derive(move || room.get().into()))
///             .params(Signal::derive(move || serde_json::json!({ "token": "secret", "user": user.get() }))),
///     );
///     view! { <p>{move || chat.status.get().as_str()}</p> }
/// }
/// ```
///
/// # Server-side rendering
/// As for [`use_actor_untyped`]: nothing is opened on the server; the state is `Idle`.
#[track_caller]
#[doc(alias = "useActor")]
pub fn use_actor_with_options(options: UseActorOptions) -> UseActorReturn {
    UseActorReturn::from_core(Core::new(move || options.build()))
}
