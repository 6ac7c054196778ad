//! The `#[actor]` attribute of `rivet-core`: declares a Rivet actor's client-facing
//! interface once, in Rust, and generates typed handles' methods, event and queue constants.
//! Use it through `rivet_core::actor`; see the `rivet_core::typed` module for what it
//! generates.

mod attr;
mod declaration;
mod expand;
mod names;

use proc_macro::TokenStream;

/// Declares an actor's interface: its wire name, actions (positional arguments and result),
/// events (payload), queues (message and completion), connection params and create input.
///
/// ```ignore
/// #[rivet_core::actor]                     // wire name: the trait's name in lowerCamelCase
/// pub trait Counter {
///     type Params = ();                    // optional: connection params
///     type Input = ();                     // optional: create input
///     /// Adds `amount` and returns the new count.
///     fn increment(amount: i64) -> i64;    // action `increment`
///     #[action(name = "getCount")]
///     fn count() -> i64;                   // Rust name `count`, wire name `getCount`
///     #[event]
///     fn new_count(count: i64);            // event `newCount`, payload `i64`
///     #[queue]
///     fn jobs(job: u32) -> u32;            // queue `jobs`, message `u32`, completion `u32`
/// }
/// ```
///
/// Generates `pub struct Counter;` (implementing `rivet_core::typed::Actor`, with the
/// constants `Counter::INCREMENT`, `Counter::COUNT`, `Counter::NEW_COUNT`, `Counter::JOBS`) and
/// `pub trait CounterActions` (`increment(&self, amount: i64)`, `count(&self)`) implemented
/// for every `rivet_core::typed::Caller<Actor = Counter>`. Rust names in `snake_case` become
/// `lowerCamelCase` on the wire unless `name = "…"` says otherwise. `#[actor(crate = path)]`
/// names the path of `rivet_core` when it is only reachable through another crate.
#[proc_macro_attribute]
pub fn actor(attr: TokenStream, item: TokenStream) -> TokenStream {
    let args = match syn::parse::<attr::ActorArgs>(attr) {
        Ok(args) => args,
        Err(error) => return error.to_compile_error().into(),
    };
    let item = match syn::parse::<syn::ItemTrait>(item) {
        Ok(item) => item,
        Err(error) => {
            return syn::Error::new(
                error.span(),
                format!("#[actor] goes on a trait declaring the actor's interface: {error}"),
            )
            .to_compile_error()
            .into()
        }
    };
    match declaration::parse(args, item) {
        Ok(declaration) => expand::expand(&declaration).into(),
        Err(error) => error.to_compile_error().into(),
    }
}
