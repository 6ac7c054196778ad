//! Typed names: an action with its argument and result types, an event with its payload type,
//! a queue with its message and completion types. The [`actor`](crate::actor) macro declares
//! one constant per action, event and queue on the actor's struct (`Counter::INCREMENT`).

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::UnitDeserializer;
use serde::de::DeserializeOwned;

use crate::{Event, Result};

/// Action `name` of actor `A`, taking the positional arguments `Args` (a tuple) and returning
/// `Out`.
///
/// ```
/// # #[rivet_core::actor]
/// # pub trait Counter { fn increment(amount: i64) -> i64; }
/// let action = Counter::INCREMENT;
/// assert_eq!(action.name(), "increment");
/// ```
pub struct ActionDef<A, Args, Out> {
    name: &'static str,
    types: PhantomData<fn(A, Args) -> Out>,
}

impl<A, Args, Out> ActionDef<A, Args, Out> {
    /// The action called `name` on the wire.
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            types: PhantomData,
        }
    }

    /// The wire name.
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

/// How an event's arguments make its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arity {
    /// No arguments: the payload is `()`, whatever the actor sent.
    None,
    /// One argument: the payload is that argument.
    One,
    /// Several arguments: the payload is the tuple of them.
    Many,
}

/// Event `name` of actor `A`, whose payload decodes as `P`: the one argument the actor
/// broadcasts, the tuple of several, or `()` for none.
///
/// ```
/// # #[rivet_core::actor]
/// # pub trait Counter { #[event] fn new_count(count: i64); }
/// use rivet_core::Event;
///
/// let event = Event::new("newCount", vec![serde_json::json!(7)]);
/// assert_eq!(Counter::NEW_COUNT.decode(&event)?, 7);
/// # Ok::<(), rivet_core::Error>(())
/// ```
pub struct EventDef<A, P> {
    name: &'static str,
    arity: Arity,
    types: PhantomData<fn(A) -> P>,
}

impl<A, P> EventDef<A, P> {
    const fn with_arity(name: &'static str, arity: Arity) -> Self {
        Self {
            name,
            arity,
            types: PhantomData,
        }
    }

    /// The wire name.
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

impl<A> EventDef<A, ()> {
    /// An event without arguments.
    pub const fn none(name: &'static str) -> Self {
        Self::with_arity(name, Arity::None)
    }
}

impl<A, P: serde::Serialize> EventDef<A, P> {
    /// The event's arguments as a server sends them for `payload`: none for an event without
    /// arguments, `[payload]` for one argument, the tuple's elements for several. The inverse of
    /// [`decode`](Self::decode); fake servers (`rivet-client-testing`) emit typed events with it.
    ///
    /// ```
    /// #[rivet_core::actor]
    /// pub trait Counter {
    ///     #[event]
    ///     fn new_count(count: i64);
    /// }
    /// let args = Counter::NEW_COUNT.encode(&7).unwrap();
    /// assert_eq!(args, vec![serde_json::json!(7)]);
    /// ```
    pub fn encode(&self, payload: &P) -> Result<Vec<serde_json::Value>> {
        let what = || format!("arguments of event {}", self.name);
        let value = serde_json::to_value(payload).map_err(|e| crate::Error::encode(what(), e))?;
        match (self.arity, value) {
            (Arity::None, _) => Ok(Vec::new()),
            (Arity::One, value) => Ok(vec![value]),
            (Arity::Many, serde_json::Value::Array(args)) => Ok(args),
            (Arity::Many, other) => Err(crate::Error::encode(
                what(),
                format!("expected a tuple of arguments, got {other}"),
            )),
        }
    }
}

impl<A, P: DeserializeOwned> EventDef<A, P> {
    /// An event with one argument, the payload.
    pub const fn one(name: &'static str) -> Self {
        Self::with_arity(name, Arity::One)
    }

    /// An event with several arguments; `P` is their tuple.
    pub const fn many(name: &'static str) -> Self {
        Self::with_arity(name, Arity::Many)
    }

    /// Decodes the payload of `event`; the error names the event and the expected type (as
    /// [`Event::arg`] does).
    pub fn decode(&self, event: &Event) -> Result<P> {
        match self.arity {
            // Only `EventDef<A, ()>` has this arity; the actor's arguments, if any, are not read.
            Arity::None => P::deserialize(UnitDeserializer::<serde::de::value::Error>::new())
                .map_err(|e| crate::Error::decode(format!("arguments of event {}", self.name), e)),
            Arity::One => event.arg::<P>(0),
            Arity::Many => event.args_as::<P>(),
        }
    }
}

/// Queue `name` of actor `A`: messages of type `M`; a sender that waits gets the completion
/// value as `Done`.
///
/// ```
/// # #[rivet_core::actor]
/// # pub trait Worker { #[queue] fn jobs(job: u32) -> u32; }
/// assert_eq!(Worker::JOBS.name(), "jobs");
/// ```
pub struct QueueDef<A, M, Done = serde_json::Value> {
    name: &'static str,
    types: PhantomData<fn(A, M) -> Done>,
}

impl<A, M, Done> QueueDef<A, M, Done> {
    /// The queue called `name` on the wire.
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            types: PhantomData,
        }
    }

    /// The wire name.
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

macro_rules! copy_and_debug {
    ($($ty:ident<$($param:ident),*> => $label:literal;)*) => {$(
        impl<$($param),*> Clone for $ty<$($param),*> {
            fn clone(&self) -> Self {
                *self
            }
        }

        impl<$($param),*> Copy for $ty<$($param),*> {}

        impl<$($param),*> fmt::Debug for $ty<$($param),*> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($label, "({})"), self.name)
            }
        }
    )*};
}

copy_and_debug! {
    ActionDef<A, Args, Out> => "ActionDef";
    EventDef<A, P> => "EventDef";
    QueueDef<A, M, Done> => "QueueDef";
}
