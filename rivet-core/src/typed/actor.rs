//! What an actor declaration provides, and how a client call names the actor it addresses.

use std::borrow::Cow;

use serde::Serialize;

use crate::typed::Handle;
use crate::ActorHandle;

/// A declared actor: its wire name and the types of its connection params and create input.
///
/// Implemented by [`actor`](crate::actor) on the unit struct it generates; write it by hand
/// only for an actor whose interface is declared elsewhere.
///
/// ```
/// use rivet_core::typed::Actor;
///
/// struct Counter;
/// impl Actor for Counter {
///     const NAME: &'static str = "counter";
///     type Params = ();
///     type Input = ();
/// }
/// assert_eq!(Counter::NAME, "counter");
/// ```
pub trait Actor: Sized + 'static {
    /// The name the actor is registered under on the server (`setup({ use: { counter } })`).
    const NAME: &'static str;
    /// The connection params the actor's `onBeforeConnect` / `createConnState` reads; `()`
    /// when it takes none.
    type Params: Serialize;
    /// The input its `createState` receives on creation; `()` when it takes none.
    type Input: Serialize;
}

/// What [`Client::get`](crate::Client::get) and its siblings accept as the actor to address:
/// a declared actor (its unit struct, giving a typed [`Handle`]) or a name (`&str`, `String`,
/// giving an untyped [`ActorHandle`]).
///
/// ```
/// # #[rivet_core::actor]
/// # pub trait Counter { fn increment(amount: i64) -> i64; }
/// let client = rivet_core::Client::new("http://127.0.0.1:6420")?;
/// let typed: rivet_core::typed::Handle<Counter> = client.get_or_create(Counter, ["a"]);
/// let untyped: rivet_core::ActorHandle = client.get_or_create("counter", ["a"]);
/// assert_eq!(typed.name(), untyped.name());
/// # Ok::<(), rivet_core::Error>(())
/// ```
pub trait ActorKind {
    /// The handle a client call returns for this kind of actor.
    type Handle;

    /// The actor's wire name.
    fn actor_name(self) -> Cow<'static, str>;

    /// Wraps an untyped handle addressing this actor.
    fn wrap(handle: ActorHandle) -> Self::Handle;
}

impl<A: Actor> ActorKind for A {
    type Handle = Handle<A>;

    fn actor_name(self) -> Cow<'static, str> {
        Cow::Borrowed(A::NAME)
    }

    fn wrap(handle: ActorHandle) -> Handle<A> {
        Handle::wrap(handle)
    }
}

macro_rules! untyped_kind {
    ($($ty:ty => |$name:ident| $convert:expr;)*) => {$(
        impl ActorKind for $ty {
            type Handle = ActorHandle;

            fn actor_name(self) -> Cow<'static, str> {
                let $name = self;
                $convert
            }

            fn wrap(handle: ActorHandle) -> ActorHandle {
                handle
            }
        }
    )*};
}

untyped_kind! {
    &str => |name| Cow::Owned(name.to_owned());
    String => |name| Cow::Owned(name);
    &String => |name| Cow::Owned(name.clone());
    Cow<'_, str> => |name| Cow::Owned(name.into_owned());
    Box<str> => |name| Cow::Owned(name.into());
    std::sync::Arc<str> => |name| Cow::Owned(name.as_ref().to_owned());
}
