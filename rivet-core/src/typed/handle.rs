//! [`Handle`]: an [`ActorHandle`] that knows which declared actor it addresses.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::typed::{ActionDef, Actor, Caller, Connection, MaybeSend, QueueDef};
use crate::{ActionOptions, ActorHandle, ConnectOptions, Error, Result};

/// A handle to an instance of the declared actor `A`: its actions are methods (from the
/// declaration's `…Actions` trait), its params and queues are typed. Stateless: every call is
/// one HTTP request; [`connect`](Self::connect) opens a persistent connection.
///
/// It dereferences to the untyped [`ActorHandle`] for everything else (`resolve`, `fetch`,
/// raw WebSockets, untyped actions).
///
/// ```no_run
/// #[rivet_core::actor]
/// pub trait Counter {
///     fn increment(amount: i64) -> i64;
/// }
///
/// # async fn demo() -> rivet_core::Result<()> {
/// let client = rivet_core::Client::new("http://127.0.0.1:6420")?;
/// let counter = client.get_or_create(Counter, ["my-counter"]);
/// let count = counter.increment(5).await?;
/// println!("actor {} counted to {count}", counter.resolve().await?);
/// # Ok(()) }
/// ```
pub struct Handle<A> {
    inner: ActorHandle,
    actor: PhantomData<fn() -> A>,
}

impl<A: Actor> Handle<A> {
    pub(crate) fn wrap(inner: ActorHandle) -> Self {
        Self {
            inner,
            actor: PhantomData,
        }
    }

    /// Treats an untyped handle as addressing `A`; fails with [`Error::InvalidInput`] if it
    /// addresses an actor of another name.
    ///
    /// ```
    /// # #[rivet_core::actor]
    /// # pub trait Counter { fn increment(amount: i64) -> i64; }
    /// use rivet_core::typed::Handle;
    ///
    /// let client = rivet_core::Client::new("http://127.0.0.1:6420")?;
    /// let counter = Handle::<Counter>::from_untyped(client.get("counter", ["a"]))?;
    /// assert!(Handle::<Counter>::from_untyped(client.get("chatRoom", ["a"])).is_err());
    /// # Ok::<(), rivet_core::Error>(())
    /// ```
    pub fn from_untyped(handle: ActorHandle) -> Result<Self> {
        if handle.name() != A::NAME {
            return Err(Error::invalid(
                "actor name",
                handle.name(),
                format!("this handle addresses another actor than {}", A::NAME),
            ));
        }
        Ok(Self::wrap(handle))
    }

    /// The untyped handle.
    pub fn untyped(&self) -> &ActorHandle {
        &self.inner
    }

    /// The untyped handle, by value.
    pub fn into_untyped(self) -> ActorHandle {
        self.inner
    }

    /// The same actor with connection params `params`, sent with every stateless call and used
    /// by [`connect`](Self::connect).
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
    /// let client = rivet_core::Client::new("http://127.0.0.1:6420")?;
    /// let room = client
    ///     .get_or_create(ChatRoom, ["general"])
    ///     .with_params(&ChatParams { token: "t".into() })?;
    /// # Ok::<(), rivet_core::Error>(())
    /// ```
    pub fn with_params(&self, params: &A::Params) -> Result<Self> {
        self.inner.with_params(params).map(Self::wrap)
    }

    /// Opens a persistent connection (with this handle's params). Needs a running tokio
    /// runtime on native targets.
    pub fn connect(&self) -> Result<Connection<A>> {
        self.inner.connect().map(Connection::wrap)
    }

    /// Opens a persistent connection with `options`.
    pub fn connect_with(&self, options: ConnectOptions) -> Result<Connection<A>> {
        self.inner.connect_with(options).map(Connection::wrap)
    }

    /// Opens a persistent connection with `options` after `setup` has run on it, and returns
    /// both: listeners `setup` registers are in place before the socket starts opening, so
    /// they see every event, including what the actor's `onConnect` sends to the new
    /// connection ([`ActorHandle::connect_with_setup`]).
    ///
    /// ```no_run
    /// #[rivet_core::actor(name = "chatRoom")]
    /// pub trait ChatRoom {
    ///     fn send_message(text: String) -> ();
    ///     #[event]
    ///     fn welcome(text: String);
    /// }
    ///
    /// # async fn demo(client: rivet_core::Client) -> rivet_core::Result<()> {
    /// let (room, _welcome) = client
    ///     .get_or_create(ChatRoom, ["general"])
    ///     .connect_with_setup(rivet_core::ConnectOptions::default(), |room| {
    ///         room.on(ChatRoom::WELCOME, |text| println!("{text}"))
    ///     })?;
    /// room.ready().await?;
    /// # Ok(()) }
    /// ```
    pub fn connect_with_setup<T>(
        &self,
        options: ConnectOptions,
        setup: impl FnOnce(&Connection<A>) -> T,
    ) -> Result<(Connection<A>, T)> {
        let (connection, prepared) = self
            .inner
            .connect_with_setup(options, |untyped| setup(&Connection::wrap(untyped.clone())))?;
        Ok((Connection::wrap(connection), prepared))
    }

    /// Calls `action` over HTTP with the positional arguments `args`; the generated methods
    /// (`counter.increment(5)`) call this.
    pub async fn call<Args: Serialize, Out: DeserializeOwned>(
        &self,
        action: ActionDef<A, Args, Out>,
        args: Args,
    ) -> Result<Out> {
        self.call_with(action, args, ActionOptions::default()).await
    }

    /// [`call`](Self::call) with per-call options (deadline).
    ///
    /// ```no_run
    /// # #[rivet_core::actor]
    /// # pub trait Counter { fn increment(amount: i64) -> i64; }
    /// # async fn demo(counter: rivet_core::typed::Handle<Counter>) -> rivet_core::Result<()> {
    /// use std::time::Duration;
    /// let options = rivet_core::ActionOptions::new().timeout(Duration::from_secs(2));
    /// let count = counter.call_with(Counter::INCREMENT, (1,), options).await?;
    /// # Ok(()) }
    /// ```
    pub async fn call_with<Args: Serialize, Out: DeserializeOwned>(
        &self,
        action: ActionDef<A, Args, Out>,
        args: Args,
        options: ActionOptions,
    ) -> Result<Out> {
        self.inner.action_with(action.name(), args, options).await
    }

    /// Sends `message` to `queue` without waiting for the actor to process it.
    ///
    /// ```no_run
    /// # #[derive(serde::Serialize, serde::Deserialize)] pub struct Job { pub n: u32 }
    /// #[rivet_core::actor]
    /// pub trait Worker {
    ///     #[queue]
    ///     fn jobs(job: Job) -> u32;
    /// }
    /// # async fn demo(worker: rivet_core::typed::Handle<Worker>) -> rivet_core::Result<()> {
    /// worker.send(Worker::JOBS, &Job { n: 2 }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send<M: Serialize, Done>(
        &self,
        queue: QueueDef<A, M, Done>,
        message: &M,
    ) -> Result<()> {
        self.inner.send(queue.name(), message).await
    }

    /// Sends `message` to `queue` and waits up to `wait` for the actor to complete it:
    /// `Some(value)` with the completion value, `None` if it did not complete in time.
    pub async fn send_and_wait<M: Serialize, Done: DeserializeOwned>(
        &self,
        queue: QueueDef<A, M, Done>,
        message: &M,
        wait: Duration,
    ) -> Result<Option<Done>> {
        let reply = self
            .inner
            .send_and_wait(queue.name(), message, wait)
            .await?;
        if !reply.is_completed() {
            return Ok(None);
        }
        reply.response_as::<Done>().map(Some).map_err(|e| match e {
            Error::Decode { reason, .. } => Error::decode(
                format!("completion of queue {} on {}", queue.name(), A::NAME),
                reason,
            ),
            other => other,
        })
    }
}

impl<A: Actor> Caller for Handle<A> {
    type Actor = A;

    fn call<Args, Out>(
        &self,
        action: ActionDef<A, Args, Out>,
        args: Args,
    ) -> impl Future<Output = Result<Out>> + MaybeSend
    where
        Args: Serialize + MaybeSend,
        Out: DeserializeOwned + MaybeSend,
    {
        Handle::call(self, action, args)
    }
}

impl<A> Deref for Handle<A> {
    type Target = ActorHandle;

    fn deref(&self) -> &ActorHandle {
        &self.inner
    }
}

impl<A> Clone for Handle<A> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            actor: PhantomData,
        }
    }
}

impl<A> fmt::Debug for Handle<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}
