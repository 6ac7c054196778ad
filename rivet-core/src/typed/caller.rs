//! Anything that can call a declared actor's actions: typed handles, typed connections, and
//! the hooks of `rivet-leptos` / `rivet-dioxus`. The methods an [`actor`](crate::actor)
//! declaration generates (`counter.increment(5)`) are written once, against this trait.

use std::future::Future;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::runtime::MaybeSend;
use crate::typed::{ActionDef, Actor};
use crate::Result;

/// Calls the actions of actor [`Caller::Actor`].
///
/// The generated `…Actions` trait of a declaration is implemented for every `Caller` of that
/// actor, so its methods are available on [`Handle`](crate::typed::Handle),
/// [`Connection`](crate::typed::Connection) and the hooks alike.
///
/// ```no_run
/// # #[rivet_core::actor]
/// # pub trait Counter { fn increment(amount: i64) -> i64; }
/// use rivet_core::typed::Caller;
///
/// async fn add_twice(counter: &impl Caller<Actor = Counter>) -> rivet_core::Result<i64> {
///     counter.call(Counter::INCREMENT, (1,)).await?;
///     counter.call(Counter::INCREMENT, (1,)).await
/// }
/// ```
pub trait Caller {
    /// The actor whose actions this calls.
    type Actor: Actor;

    /// Calls `action` with the positional arguments `args` (always a tuple: `(5,)`, `()`).
    fn call<Args, Out>(
        &self,
        action: ActionDef<Self::Actor, Args, Out>,
        args: Args,
    ) -> impl Future<Output = Result<Out>> + MaybeSend
    where
        Args: Serialize + MaybeSend,
        Out: DeserializeOwned + MaybeSend;
}
