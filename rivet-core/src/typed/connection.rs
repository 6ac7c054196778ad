//! [`Connection`]: an [`ActorConnection`] that knows which declared actor it talks to, with
//! typed actions and events.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::typed::{ActionDef, Actor, Caller, EventDef, MaybeSend, MaybeSync};
use crate::{ActorConnection, Error, Event, EventStream, EventSubscription, Result};

/// A persistent connection to an instance of the declared actor `A`: its actions are methods
/// (from the declaration's `…Actions` trait), its events are typed.
///
/// It dereferences to the untyped [`ActorConnection`] for status, state, `ready`, `dispose`
/// and the lifecycle callbacks.
///
/// ```no_run
/// #[rivet_core::actor]
/// pub trait Counter {
///     fn increment(amount: i64) -> i64;
///     #[event]
///     fn new_count(count: i64);
/// }
///
/// # async fn demo(client: rivet_core::Client) -> rivet_core::Result<()> {
/// let counter = client.get_or_create(Counter, ["my-counter"]).connect()?;
/// let _listener = counter.on(Counter::NEW_COUNT, |count| println!("count is now {count}"));
/// counter.increment(1).await?;
/// # Ok(()) }
/// ```
pub struct Connection<A> {
    inner: ActorConnection,
    actor: PhantomData<fn() -> A>,
}

impl<A: Actor> Connection<A> {
    pub(crate) fn wrap(inner: ActorConnection) -> Self {
        Self {
            inner,
            actor: PhantomData,
        }
    }

    /// Treats an untyped connection as talking to `A` (for connections from the
    /// [`ConnectionManager`](crate::ConnectionManager)); fails with [`Error::InvalidInput`]
    /// if it talks to an actor of another name.
    pub fn from_untyped(connection: ActorConnection) -> Result<Self> {
        let name = connection.actor_name();
        if name != A::NAME {
            return Err(Error::invalid(
                "actor name",
                name,
                format!("this connection talks to another actor than {}", A::NAME),
            ));
        }
        Ok(Self::wrap(connection))
    }

    /// The untyped connection.
    pub fn untyped(&self) -> &ActorConnection {
        &self.inner
    }

    /// The untyped connection, by value.
    pub fn into_untyped(self) -> ActorConnection {
        self.inner
    }

    /// Calls `action` over the connection with the positional arguments `args`; the generated
    /// methods (`counter.increment(5)`) call this. Waits in the queue while disconnected, as
    /// [`ActorConnection::action`] does.
    pub async fn call<Args: Serialize, Out: DeserializeOwned>(
        &self,
        action: ActionDef<A, Args, Out>,
        args: Args,
    ) -> Result<Out> {
        self.inner.action(action.name(), args).await
    }

    /// [`call`](Self::call) with its own deadline.
    pub async fn call_with_timeout<Args: Serialize, Out: DeserializeOwned>(
        &self,
        action: ActionDef<A, Args, Out>,
        args: Args,
        timeout: Duration,
    ) -> Result<Out> {
        self.inner
            .action_with_timeout(action.name(), args, timeout)
            .await
    }

    /// Calls `callback` with the payload of every `event` until the returned guard is
    /// dropped. A payload that does not decode as `P` is not passed on: the error (naming
    /// the event and `P`) goes to [`on_error`](ActorConnection::on_error) callbacks and the
    /// log.
    pub fn on<P, F>(&self, event: EventDef<A, P>, callback: F) -> EventSubscription
    where
        P: DeserializeOwned + 'static,
        F: Fn(P) + MaybeSend + MaybeSync + 'static,
    {
        let report = self.inner.error_reporter();
        self.inner
            .on(event.name(), move |raw: &Event| match event.decode(raw) {
                Ok(payload) => callback(payload),
                Err(error) => report(&error),
            })
    }

    /// Like [`on`](Self::on), for the next occurrence only.
    pub fn once<P, F>(&self, event: EventDef<A, P>, callback: F) -> EventSubscription
    where
        P: DeserializeOwned + 'static,
        F: Fn(P) + MaybeSend + MaybeSync + 'static,
    {
        let report = self.inner.error_reporter();
        self.inner
            .once(event.name(), move |raw: &Event| match event.decode(raw) {
                Ok(payload) => callback(payload),
                Err(error) => report(&error),
            })
    }

    /// A stream of `event`'s payloads; dropping it unsubscribes. A payload that does not
    /// decode as `P` is an `Err` item naming the event and `P`; the stream goes on.
    ///
    /// ```no_run
    /// # #[rivet_core::actor]
    /// # pub trait Counter { #[event] fn new_count(count: i64); }
    /// # async fn demo(counter: rivet_core::typed::Connection<Counter>) -> rivet_core::Result<()> {
    /// use futures::StreamExt;
    /// let mut counts = counter.events(Counter::NEW_COUNT);
    /// while let Some(count) = counts.next().await {
    ///     println!("count is now {}", count?);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn events<P: DeserializeOwned>(&self, event: EventDef<A, P>) -> Payloads<A, P> {
        Payloads {
            events: self.inner.events(event.name()),
            def: event,
        }
    }
}

impl<A: Actor> Caller for Connection<A> {
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
        Connection::call(self, action, args)
    }
}

impl<A> Deref for Connection<A> {
    type Target = ActorConnection;

    fn deref(&self) -> &ActorConnection {
        &self.inner
    }
}

impl<A> Clone for Connection<A> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            actor: PhantomData,
        }
    }
}

impl<A> fmt::Debug for Connection<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// The payloads of one event, from [`Connection::events`]; dropping it unsubscribes.
#[must_use = "streams do nothing unless polled"]
pub struct Payloads<A, P> {
    events: EventStream,
    def: EventDef<A, P>,
}

impl<A, P> fmt::Debug for Payloads<A, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Payloads")
            .field("event", &self.def.name())
            .finish()
    }
}

impl<A, P: DeserializeOwned> Stream for Payloads<A, P> {
    type Item = Result<P>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<P>>> {
        let this = &mut *self;
        Pin::new(&mut this.events)
            .poll_next(cx)
            .map(|event| event.map(|event| this.def.decode(&event)))
    }
}
