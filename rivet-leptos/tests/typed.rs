//! The typed hooks natively against the real RivetKit server, and the lifecycle gaps of
//! issue 15: owner in event handlers, create input outside the identity, params functions
//! on stateless calls, a new mount after a terminal failure, one reconnect per change.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use common::{mount, until};
use leptos::prelude::*;
use rivet_core::manager::ActorOptions;
use rivet_core::{Client, ConnStatus, Error};
use rivet_leptos::prelude::*;
use rivet_test_support::{unique_key, TestServer};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[rivet_core::actor]
pub trait Counter {
    fn increment(amount: i64) -> i64;
    fn get_count() -> i64;
    fn conn_count() -> i64;
    #[event]
    fn new_count(count: i64);
    #[event(name = "newCount")]
    fn new_count_as_text(count: String);
}

/// The counter again, declared with a create input (the server ignores it).
#[rivet_core::actor(name = "counter")]
pub trait CounterWithInput {
    type Input = Value;
    fn conn_count() -> i64;
}

/// The counter again, with params (the server ignores them) and its `disconnectMe` action.
#[rivet_core::actor(name = "counter")]
pub trait CounterWithParams {
    type Params = Value;
    fn disconnect_me() -> bool;
    fn get_count() -> i64;
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ChatParams {
    pub token: String,
    pub user: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Message {
    pub user: Option<String>,
    pub text: String,
}

#[rivet_core::actor(name = "chatRoom")]
pub trait ChatRoom {
    type Params = ChatParams;
    fn send_message(text: String) -> Message;
    fn get_history() -> Vec<Message>;
    fn conn_count() -> i64;
}

fn run<F: Future<Output = ()>>(test: F) {
    let _ = any_spawner::Executor::init_tokio();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio::task::LocalSet::new().block_on(&runtime, async {
        tokio::time::timeout(Duration::from_secs(60), test)
            .await
            .expect("test did not finish within 60 s");
    });
}

fn client() -> Client {
    let client = Client::new(TestServer::shared().endpoint().as_str()).unwrap();
    client.manager().set_grace_period(Duration::ZERO);
    client
}

/// The server's count of connections to the counter `key`, its own HTTP call included.
async fn server_conn_count(client: &Client, key: &str) -> i64 {
    client
        .get_or_create(Counter, key)
        .conn_count()
        .await
        .unwrap()
}

/// Creates the counter `key` through a stateless call first: those are retried, while a busy
/// engine may time out the first route to a new actor of a socket (`route_resolve_query_timeout`).
async fn create_counter(client: &Client, key: &str) {
    client
        .get_or_create(Counter, key)
        .get_count()
        .await
        .unwrap();
}

#[test]
fn typed_actions_events_and_action_hook() {
    run(async {
        let client = client();
        let key = unique_key("leptos-typed");
        create_counter(&client, &key).await;
        let (owner, (counter, latest, increment, seen)) = mount(&client, || {
            let counter = use_actor(Counter, key.as_str());
            let seen = RwSignal::new(Vec::<i64>::new());
            use_event(&counter, Counter::NEW_COUNT, move |n| {
                seen.update(|s| s.push(n))
            });
            let latest = use_latest_event(&counter, Counter::NEW_COUNT);
            let increment = use_action(&counter, Counter::INCREMENT);
            (counter, latest, increment, seen)
        });
        // Called before the effect ran: waits for the connection.
        let first = counter.increment(2);
        let first = tokio::time::timeout(Duration::from_secs(25), first).await;
        let first = first.unwrap_or_else(|_| {
            panic!(
                "the first call hung; state {:?}",
                counter.state().get_untracked()
            )
        });
        assert_eq!(first.unwrap(), 2);
        assert!(counter.is_connected().get_untracked());
        assert_eq!(counter.status().get_untracked(), ConnStatus::Connected);
        assert!(counter.connection().is_some());
        until(5, "subscribed", || {
            counter
                .connection()
                .is_some_and(|c| c.listener_count() >= 2)
        })
        .await;
        owner.with(|| increment.dispatch((3,)));
        until(10, "action value 5", || {
            increment.value().get_untracked() == Some(5)
        })
        .await;
        assert!(!increment.pending().get_untracked());
        assert_eq!(increment.error().get_untracked(), None);
        until(10, "event 5", || latest.get_untracked() == Some(5)).await;
        assert_eq!(seen.get_untracked().last(), Some(&5));
        assert_eq!(counter.get_count().await.unwrap(), 5);
        let handle = counter.handle().expect("a handle once mounted");
        assert_eq!(handle.get_count().await.unwrap(), 5);
        owner.cleanup();
        let after = tokio::time::timeout(Duration::from_secs(10), counter.increment(1)).await;
        let after = after.expect("a call after cleanup fails at once");
        assert!(
            matches!(after, Err(Error::InvalidInput { .. })),
            "{after:?}"
        );
    });
}

/// An event payload that does not match its declaration shows in the hook's `error` (and is
/// not passed to the handler); the connection stays up.
#[test]
fn a_mismatched_event_payload_shows_in_the_hooks_error() {
    run(async {
        let client = client();
        let key = unique_key("leptos-event-mismatch");
        create_counter(&client, &key).await;
        let (owner, (counter, seen)) = mount(&client, || {
            let counter = use_actor(Counter, key.as_str());
            let seen = RwSignal::new(Vec::<String>::new());
            use_event(&counter, Counter::NEW_COUNT_AS_TEXT, move |n| {
                seen.update(|s| s.push(n))
            });
            (counter, seen)
        });
        until(25, "subscribed", || {
            counter
                .connection()
                .is_some_and(|c| c.listener_count() >= 1)
        })
        .await;
        counter.increment(1).await.unwrap();
        until(10, "the decode error in error()", || {
            counter.error().get_untracked().is_some()
        })
        .await;
        let error = counter.error().get_untracked().unwrap().to_string();
        assert!(
            error.contains("newCount") && error.contains("String"),
            "{error}"
        );
        assert!(seen.get_untracked().is_empty());
        assert_eq!(counter.status().get_untracked(), ConnStatus::Connected);
        owner.cleanup();
    });
}

#[derive(Clone)]
struct Theme(&'static str);

/// Gap 1: event handlers ran in tasks without the component's owner, so `use_context`
/// found nothing in them.
#[test]
fn event_handlers_see_the_components_context() {
    run(async {
        let client = client();
        let key = unique_key("leptos-context");
        create_counter(&client, &key).await;
        let found = Rc::new(RefCell::new(Vec::<Option<&'static str>>::new()));
        let (owner, counter) = mount(&client, || {
            provide_context(Theme("dark"));
            let counter = use_actor(Counter, key.as_str());
            let found = found.clone();
            use_event(&counter, Counter::NEW_COUNT, move |_| {
                found
                    .borrow_mut()
                    .push(use_context::<Theme>().map(|theme| theme.0));
            });
            counter
        });
        until(20, "subscribed", || {
            counter
                .connection()
                .is_some_and(|c| c.listener_count() >= 1)
        })
        .await;
        let sent = tokio::time::timeout(Duration::from_secs(15), counter.increment(1)).await;
        if sent.is_err() {
            panic!(
                "increment hung; state {:?} conn {:?}",
                counter.state().get_untracked(),
                counter
                    .connection()
                    .map(|c| (c.status(), c.listener_count()))
            );
        }
        sent.unwrap().unwrap();
        until(10, "event handled", || !found.borrow().is_empty()).await;
        assert_eq!(found.borrow().as_slice(), &[Some("dark")]);
        owner.cleanup();
    });
}

/// Gap 3: the create input was part of the identity, so an input read from a signal opened
/// a new socket to the same actor on every change.
#[test]
fn a_changing_create_input_keeps_the_one_socket() {
    run(async {
        let client = client();
        let key = unique_key("leptos-input");
        create_counter(&client, &key).await;
        let input = RwSignal::new(1);
        let (owner, counter) = mount(&client, || {
            let key = key.clone();
            use_actor_with(move || {
                ActorOptions::new(CounterWithInput, key.as_str())
                    .create_input(&json!({ "n": input.get() }))
            })
        });
        until(20, "connected", || counter.is_connected().get_untracked()).await;
        let first = counter.state().get_untracked().connection_id;
        input.set(2);
        input.set(3);
        for _ in 0..10 {
            any_spawner::Executor::tick().await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(client.manager().opened_total(), 1, "no second socket");
        assert_eq!(counter.state().get_untracked().connection_id, first);
        assert_eq!(
            server_conn_count(&client, &key).await,
            2,
            "one socket + this call"
        );
        owner.cleanup();
    });
}

/// Gap 4: a hook with a params function handed out a handle without params, so its
/// stateless calls were rejected by an actor that checks them.
#[test]
fn a_params_function_reaches_stateless_calls() {
    run(async {
        let client = client();
        let room = unique_key("leptos-params-fn");
        let params = ChatParams {
            token: "secret".into(),
            user: "ada".into(),
        };
        let warm = client
            .get_or_create(ChatRoom, room.as_str())
            .with_params(&params)
            .unwrap();
        warm.get_history().await.unwrap();
        let (owner, chat) = mount(&client, || {
            let room = room.clone();
            use_actor_with(move || {
                ActorOptions::new(ChatRoom, room.as_str()).params_fn(&"ada", || async {
                    Ok(ChatParams {
                        token: "secret".into(),
                        user: "ada".into(),
                    })
                })
            })
        });
        until(20, "connected", || chat.is_connected().get_untracked()).await;
        until(5, "the handle has the params", || chat.handle().is_some()).await;
        let handle = chat.handle().unwrap();
        let history = handle.get_history().await;
        assert!(history.is_ok(), "stateless call rejected: {history:?}");
        let sent = chat.send_message("hi".into()).await.unwrap();
        assert_eq!(sent.user.as_deref(), Some("ada"));
        owner.cleanup();
    });
}

/// With a params function the hook's stateless handle follows the connection: after a
/// reconnect (which calls the function again) it carries the new value, so a refreshed
/// token reaches stateless calls too.
#[test]
fn the_handle_follows_a_params_function_across_reconnects() {
    run(async {
        let client = client();
        let key = unique_key("leptos-params-refresh");
        create_counter(&client, &key).await;
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let (owner, counter) = mount(&client, || {
            let key = key.clone();
            let calls = calls.clone();
            use_actor_with(move || {
                let calls = calls.clone();
                ActorOptions::new(CounterWithParams, key.as_str()).params_fn(&"gen", move || {
                    let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    async move { Ok(json!({ "token": format!("token-{n}") })) }
                })
            })
        });
        let token_of_handle = move || {
            counter.handle().and_then(|h| {
                h.params()
                    .and_then(|p| p["token"].as_str().map(str::to_owned))
            })
        };
        until(20, "connected", || counter.is_connected().get_untracked()).await;
        until(5, "the handle has the params", || {
            token_of_handle().is_some()
        })
        .await;
        let first = token_of_handle().unwrap();
        // The server closes the socket (close 1000); the connection reconnects, calling the
        // params function again. The answer may be lost with the socket.
        let _ = counter.disconnect_me().await;
        until(20, "the handle has fresh params", || {
            token_of_handle().is_some_and(|token| token != first)
        })
        .await;
        assert!(counter.is_connected().get_untracked());
        let handle = counter.handle().unwrap();
        assert!(handle.get_count().await.is_ok());
        owner.cleanup();
    });
}

/// Gap 5: a connection that stopped for good (here: the actor did not exist) was handed to
/// components mounted later, which never tried again.
#[test]
fn a_new_mount_after_a_terminal_failure_tries_again() {
    run(async {
        let client = client();
        let key = unique_key("leptos-terminal");
        let options = {
            let key = key.clone();
            move || ActorOptions::new(Counter, key.as_str()).get_only()
        };
        let (first_owner, first) = mount(&client, || use_actor_with(options.clone()));
        until(20, "not found", || {
            matches!(first.error().get_untracked(), Some(Error::NotFound(_)))
        })
        .await;
        assert!(first.state().get_untracked().terminal);

        // The actor exists now; a component mounted later (the first still holds the
        // terminal connection) must try again rather than inherit the failure.
        assert_eq!(
            client
                .get_or_create(Counter, key.as_str())
                .increment(1)
                .await
                .unwrap(),
            1
        );
        let (second_owner, second) = mount(&client, || use_actor_with(options.clone()));
        until(20, "the later mount connects", || {
            second.is_connected().get_untracked()
        })
        .await;
        assert!(
            first.is_connected().get_untracked(),
            "shared: both connected"
        );
        first_owner.cleanup();
        second_owner.cleanup();
    });
}

/// Gap 6: changing a signal the options read reconnects exactly once, counted on the server.
#[test]
fn changing_a_signal_key_reconnects_exactly_once() {
    run(async {
        let client = client();
        let first = unique_key("leptos-once-a");
        let second = unique_key("leptos-once-b");
        create_counter(&client, &first).await;
        create_counter(&client, &second).await;
        let key = RwSignal::new(first.clone());
        let (owner, counter) = mount(&client, || {
            use_actor_with(move || ActorOptions::new(Counter, key.get()))
        });
        until(20, "connected to the first", || {
            counter.is_connected().get_untracked()
        })
        .await;
        assert_eq!(server_conn_count(&client, &first).await, 2);

        key.set(second.clone());
        until(20, "connected to the second", || {
            counter.is_connected().get_untracked()
                && counter
                    .identity()
                    .is_some_and(|i| i.as_str().contains(second.as_str()))
        })
        .await;
        // Let any extra effect run happen before counting.
        for _ in 0..10 {
            any_spawner::Executor::tick().await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(client.manager().opened_total(), 2, "one new socket");
        assert_eq!(
            server_conn_count(&client, &second).await,
            2,
            "one socket + this call"
        );
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while server_conn_count(&client, &first).await != 1 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the first socket is still open"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        owner.cleanup();
    });
}

/// Options that fail to build are reported, and calls on a hook without a client fail at
/// once rather than waiting.
#[test]
fn calls_fail_at_once_without_a_client() {
    run(async {
        let owner = Owner::new();
        let counter = owner.with(|| use_actor(Counter, "x"));
        until(5, "error reported", || {
            counter.error().get_untracked().is_some()
        })
        .await;
        let started = tokio::time::Instant::now();
        let result = counter.increment(1).await;
        assert!(
            matches!(
                result,
                Err(Error::InvalidInput {
                    field: "client",
                    ..
                })
            ),
            "{result:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(30));
        owner.cleanup();
    });
}
