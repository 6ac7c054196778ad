//! [`use_actor`]: a shared connection to an actor for as long as the component lives.

use std::future::Future;

use futures::future::{AbortHandle, Abortable};
use futures::StreamExt;
use leptos::prelude::*;
use leptos::task::spawn_local;
use rivet_core::manager::{ActorIdentity, ActorOptions, Lease};
use rivet_core::{ActorConnection, ActorHandle, ActorKey, ConnStatus, ConnectOptions};
use rivet_core::{ConnectionState, Error};
use serde_json::Value;

use crate::platform::{self, ConnStorage, MaybeSend, MaybeSendSync, ParamsFn};
use crate::provider::use_rivet_client;

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

/// What [`use_actor`] returns: signals to read in the view, `Copy` so it can be passed to
/// [`use_event`](crate::use_event) and [`use_actor_action`](crate::use_actor_action) and
/// moved into closures freely.
///
/// ```no_run
/// use leptos::prelude::*;
/// use rivet_leptos::{use_actor, UseActorReturn};
///
/// #[component]
/// fn Status() -> impl IntoView {
///     let UseActorReturn { status, error, .. } = use_actor("counter", "demo");
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
    /// The stateless handle (HTTP actions, queues, raw fetch) of the current actor.
    pub handle: Signal<Option<ActorHandle>, ConnStorage>,
}

impl UseActorReturn {
    /// Drops the current socket and connects again at once (also after a terminal error).
    ///
    /// ```no_run
    /// # use leptos::prelude::*;
    /// # #[component] fn C() -> impl IntoView {
    /// let actor = rivet_leptos::use_actor("counter", "demo");
    /// view! { <button on:click=move |_| actor.reconnect()>"retry"</button> }
    /// # }
    /// ```
    pub fn reconnect(&self) {
        if let Some(connection) = self.connection.get_untracked() {
            connection.reconnect();
        }
    }
}

/// A lease and the task that mirrors its state into signals; dropping it stops both.
struct Held {
    _lease: Lease,
    follower: AbortHandle,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.follower.abort();
    }
}

/// Connects to the actor `name` with `key` (get-or-create) while the component lives: the
/// Leptos form of React's `useActor({ name, key })`. See [`use_actor_with_options`] for
/// params, `enabled`, get-only, create input, region, by-id and reactive identities.
///
/// The connection comes from [`use_rivet_client`]'s shared manager: components using the
/// same actor share one socket, taken when the component mounts (in an effect) and given
/// back when it is cleaned up; the socket closes a grace period after its last user goes.
///
/// ```no_run
/// use leptos::prelude::*;
/// use rivet_leptos::{use_actor, use_actor_action, use_latest_event};
///
/// #[component]
/// fn Counter() -> impl IntoView {
///     let counter = use_actor("counter", "demo");
///     let increment = use_actor_action::<(i64,), i64>(&counter, "increment");
///     let latest = use_latest_event(&counter, "newCount");
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
pub fn use_actor(name: impl Into<String>, key: impl Into<ActorKey>) -> UseActorReturn {
    use_actor_with_options(UseActorOptions::new(name, key))
}

/// [`use_actor`] with [`UseActorOptions`]: reactive name, key, params (static or an async
/// function), `enabled`, get-only, create input and region, or an actor id. When the
/// identity changes the hook releases the old connection and acquires the new one; the
/// returned signals follow.
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
/// As for [`use_actor`]: nothing is opened on the server; the state is `Idle`.
#[track_caller]
#[doc(alias = "useActor")]
pub fn use_actor_with_options(options: UseActorOptions) -> UseActorReturn {
    let client = use_rivet_client();
    let state = RwSignal::new(ConnectionState::default());
    let setup_error = RwSignal::new(None::<Error>);
    let connection: RwSignal<Option<ActorConnection>, ConnStorage> =
        RwSignal::new_with_storage(None);
    let handle: RwSignal<Option<ActorHandle>, ConnStorage> = RwSignal::new_with_storage(None);
    let held: StoredValue<Option<Held>, ConnStorage> = StoredValue::new_with_storage(None);

    Effect::new(move |previous: Option<Option<(ActorIdentity, bool)>>| {
        if cfg!(feature = "ssr") {
            // Effects do not run on the server anyway; this keeps it so in test builds
            // that enable them.
            return None;
        }
        let built = options.build();
        let current = built.as_ref().ok().map(|o| (o.identity(), o.is_enabled()));
        if let (Some(Some(previous)), Some(current)) = (&previous, &current) {
            if previous == current {
                return Some(current.clone());
            }
        }
        held.set_value(None);
        let acquired = match (&client, built) {
            (None, _) => Err(no_client()),
            (_, Err(error)) => Err(error),
            (Some(client), Ok(built)) => client.manager().acquire(built),
        };
        match acquired {
            Ok(lease) => {
                setup_error.set(None);
                state.set(lease.state());
                connection.set(lease.connection());
                handle.set(Some(lease.handle().clone()));
                let mut states = lease.states();
                let (abort, registration) = AbortHandle::new_pair();
                let follow = async move {
                    while let Some(next) = states.next().await {
                        if state.try_set(next).is_some() {
                            break; // the owner is gone
                        }
                    }
                };
                spawn_local(async move {
                    let _ = Abortable::new(follow, registration).await;
                });
                held.set_value(Some(Held {
                    _lease: lease,
                    follower: abort,
                }));
            }
            Err(error) => {
                state.set(ConnectionState::default());
                connection.set(None);
                handle.set(None);
                setup_error.set(Some(error));
            }
        }
        current
    });
    on_cleanup(move || {
        // Release now rather than when the arena happens to drop the value.
        held.try_update_value(|held| held.take());
    });

    let status = Memo::new(move |_| state.with(|s| s.status));
    UseActorReturn {
        state: state.into(),
        status: status.into(),
        is_connected: Signal::derive(move || status.get() == ConnStatus::Connected),
        // The connection clears its last error when a socket reaches `Connected`, so an error
        // seen while connected is a connection-level `Error` from the server, shown at once.
        error: Signal::derive(move || {
            setup_error
                .get()
                .or_else(|| state.with(|s| s.last_error.clone()))
        }),
        connection: connection.into(),
        handle: handle.into(),
    }
}

fn no_client() -> Error {
    Error::InvalidInput {
        field: "client",
        value: String::new(),
        reason: "no Rivet client in context: call provide_rivet(client) or wrap the app in \
                 <RivetProvider>"
            .to_owned(),
    }
}
