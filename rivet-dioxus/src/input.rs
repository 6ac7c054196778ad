//! [`Input`]: a hook argument that is either a plain value or something reactive.

use std::rc::Rc;

use dioxus::prelude::*;
use rivet_core::ActorKey;
use serde_json::Value;

/// A hook argument: a plain value, or something reactive (a [`ReadSignal`], [`Signal`],
/// [`Memo`] or closure reading signals). Hooks read it inside an effect, so when a reactive
/// input changes, the hook reacts (e.g. [`use_actor`](crate::use_actor) reconnects); a plain
/// value that differs from the previous render's does the same.
///
/// ```
/// use dioxus::prelude::*;
/// use rivet_dioxus::Input;
///
/// let fixed: Input<String> = "general".into();
/// assert_eq!(fixed.get(), "general");
/// let derived: Input<bool> = Input::from_fn(|| 1 + 1 == 2);
/// assert!(derived.get());
/// ```
pub enum Input<T: 'static> {
    /// A value that only changes when the component renders with a different one.
    Value(T),
    /// Re-read on every use; signals read inside are tracked by the hook's effect.
    Reactive(Rc<dyn Fn() -> T>),
}

impl<T: Clone + 'static> Input<T> {
    /// An input computed by `f`; the signals `f` reads are tracked.
    pub fn from_fn(f: impl Fn() -> T + 'static) -> Self {
        Input::Reactive(Rc::new(f))
    }

    /// The current value (tracked when read inside a reactive context).
    pub fn get(&self) -> T {
        match self {
            Input::Value(value) => value.clone(),
            Input::Reactive(f) => f(),
        }
    }
}

impl<T: Clone + 'static> Clone for Input<T> {
    fn clone(&self) -> Self {
        match self {
            Input::Value(value) => Input::Value(value.clone()),
            Input::Reactive(f) => Input::Reactive(f.clone()),
        }
    }
}

impl<T: std::fmt::Debug + 'static> std::fmt::Debug for Input<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Input::Value(value) => f.debug_tuple("Value").field(value).finish(),
            Input::Reactive(_) => f.write_str("Reactive(..)"),
        }
    }
}

impl<T: Clone + 'static> From<ReadSignal<T>> for Input<T> {
    fn from(signal: ReadSignal<T>) -> Self {
        Input::from_fn(move || signal.cloned())
    }
}

impl<T: Clone + 'static> From<Signal<T>> for Input<T> {
    fn from(signal: Signal<T>) -> Self {
        Input::from_fn(move || signal.cloned())
    }
}

impl<T: Clone + PartialEq + 'static> From<Memo<T>> for Input<T> {
    fn from(memo: Memo<T>) -> Self {
        Input::from_fn(move || memo.cloned())
    }
}

macro_rules! value_into {
    ($target:ty: $($source:ty),*) => {$(
        impl From<$source> for Input<$target> {
            fn from(value: $source) -> Self {
                Input::Value(value.into())
            }
        }
    )*};
}

value_into!(String: String, &str, &String);
value_into!(bool: bool);
value_into!(Value: Value);
value_into!(ActorKey: ActorKey, String, &str, &String, Vec<String>, Vec<&str>);

impl<const N: usize> From<[&str; N]> for Input<ActorKey> {
    fn from(parts: [&str; N]) -> Self {
        Input::Value(parts.into())
    }
}

macro_rules! key_from_reactive {
    ($($wrapper:ident),*) => {$(
        impl From<$wrapper<String>> for Input<ActorKey> {
            fn from(signal: $wrapper<String>) -> Self {
                Input::from_fn(move || ActorKey::from(signal.cloned()))
            }
        }
    )*};
}

key_from_reactive!(ReadSignal, Signal, Memo);
