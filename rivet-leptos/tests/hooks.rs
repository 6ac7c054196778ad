//! The hooks natively, without a browser: a reactive `Owner` per "component", a tokio
//! `LocalSet` as the executor, and the real RivetKit server. `owner.cleanup()` is unmount.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use common::{mount, until};
use leptos::prelude::*;
use rivet_core::{Client, ConnStatus, Error};
use rivet_leptos::prelude::*;
use rivet_test_support::{unique_key, TestServer};
use serde_json::json;

/// Runs `test` on a current-thread runtime inside a `LocalSet`, with Leptos's executor on it.
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

/// A client for the shared server whose connections close as soon as their last lease goes.
fn client() -> Client {
    let client = Client::new(TestServer::shared().endpoint().as_str()).unwrap();
    client.manager().set_grace_period(Duration::ZERO);
    client
}

/// The server's count of connections to the counter `key` (its own HTTP call included).
async fn server_conn_count(client: &Client, key: &str) -> i64 {
    client
        .get_or_create("counter", key)
        .action("connCount", ())
        .await
        .unwrap()
}

#[test]
fn components_share_one_connection_released_on_cleanup() {
    run(async {
        let client = client();
        let key = unique_key("leptos-share");
        let (owner_a, a) = mount(&client, || use_actor_untyped("counter", key.as_str()));
        let (owner_b, b) = mount(&client, || use_actor_untyped("counter", key.as_str()));
        assert_eq!(a.status.get_untracked(), ConnStatus::Idle, "starts Idle");
        until(20, "both connected", || {
            a.is_connected.get_untracked() && b.is_connected.get_untracked()
        })
        .await;
        assert_eq!(client.manager().connection_count(), 1);
        assert_eq!(client.manager().opened_total(), 1);
        // One WebSocket plus the HTTP call's own connection.
        assert_eq!(server_conn_count(&client, &key).await, 2);

        owner_a.cleanup();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            b.is_connected.get_untracked(),
            "b still holds the connection"
        );
        assert_eq!(client.manager().connection_count(), 1);

        owner_b.cleanup();
        until(5, "manager closed the socket", || {
            client.manager().connection_count() == 0
        })
        .await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while server_conn_count(&client, &key).await != 1 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "server still sees the socket"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
}

#[test]
fn events_and_actions_flow_until_cleanup() {
    run(async {
        let client = client();
        let key = unique_key("leptos-events");
        let seen = Rc::new(Cell::new(0));
        let (owner, (actor, latest, increment)) = mount(&client, || {
            let actor = use_actor_untyped("counter", key.as_str());
            let seen = seen.clone();
            use_event_untyped(&actor, "newCount", move |_| seen.set(seen.get() + 1));
            let latest = use_latest_event_untyped(&actor, "newCount");
            let increment = use_actor_action::<(i64,), i64>(&actor, "increment");
            (actor, latest, increment)
        });
        until(20, "connected", || actor.is_connected.get_untracked()).await;
        // Let the effect subscribe before the first broadcast.
        until(5, "subscribed", || {
            actor
                .connection
                .get_untracked()
                .is_some_and(|c| c.listener_count() >= 2)
        })
        .await;

        owner.with(|| increment.dispatch((5,)));
        until(10, "action result", || {
            matches!(increment.value().get_untracked(), Some(Ok(5)))
        })
        .await;
        until(10, "event delivered", || {
            latest
                .get_untracked()
                .is_some_and(|e| e.arg::<i64>(0).ok() == Some(5))
        })
        .await;
        assert_eq!(seen.get(), 1);
        assert!(!increment.pending().get_untracked());

        owner.cleanup();
        let _: i64 = client
            .get_or_create("counter", key.as_str())
            .action("increment", (1,))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(seen.get(), 1, "no event after cleanup");
        assert_eq!(client.manager().connection_count(), 0);
    });
}

#[test]
fn a_new_key_moves_the_connection_and_the_subscription() {
    run(async {
        let client = client();
        let first = unique_key("leptos-first");
        let second = unique_key("leptos-second");
        let key = RwSignal::new(first.clone());
        let (owner, (actor, latest)) = mount(&client, || {
            let actor = use_actor_with_options(
                UseActorOptions::new("counter", "").key(Signal::derive(move || key.get().into())),
            );
            (actor, use_latest_event_untyped(&actor, "newCount"))
        });
        until(20, "connected to the first", || {
            actor.is_connected.get_untracked()
        })
        .await;
        let first_id = actor.state.get_untracked().actor_id.unwrap();

        key.set(second.clone());
        until(20, "connected to the second", || {
            let state = actor.state.get_untracked();
            state.is_connected() && state.actor_id.as_deref() != Some(first_id.as_str())
        })
        .await;
        until(5, "the first is closed", || {
            client.manager().connection_count() == 1
        })
        .await;
        until(5, "subscribed on the second", || {
            actor
                .connection
                .get_untracked()
                .is_some_and(|c| c.listener_count() >= 1)
        })
        .await;
        let _: i64 = client
            .get_or_create("counter", second.as_str())
            .action("increment", (7,))
            .await
            .unwrap();
        until(10, "event of the second actor", || {
            latest
                .get_untracked()
                .is_some_and(|e| e.arg::<i64>(0).ok() == Some(7))
        })
        .await;
        owner.cleanup();
    });
}

#[test]
fn rejected_params_surface_as_the_error() {
    run(async {
        let client = client();
        let room = unique_key("leptos-room");
        let (owner, actor) = mount(&client, || {
            use_actor_with_options(
                UseActorOptions::new("chatRoom", room.as_str())
                    .params(json!({ "token": "wrong", "user": "eve" })),
            )
        });
        until(20, "the rejection is reported", || {
            actor.error.get_untracked().is_some()
        })
        .await;
        let error = actor.error.get_untracked().unwrap();
        assert_eq!(error.code(), Some("unauthorized"), "{error:?}");
        assert!(!actor.is_connected.get_untracked());
        owner.cleanup();
    });
}

#[test]
fn disabled_opens_nothing_until_enabled() {
    run(async {
        let client = client();
        let enabled = RwSignal::new(false);
        let (owner, actor) = mount(&client, || {
            use_actor_with_options(
                UseActorOptions::new("counter", unique_key("leptos-enabled")).enabled(enabled),
            )
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        any_spawner::Executor::tick().await;
        assert_eq!(actor.status.get_untracked(), ConnStatus::Idle);
        assert!(actor.connection.get_untracked().is_none());
        assert!(
            actor.handle.get_untracked().is_some(),
            "the handle works while disabled"
        );
        assert_eq!(client.manager().connection_count(), 0);

        enabled.set(true);
        until(20, "connected once enabled", || {
            actor.is_connected.get_untracked()
        })
        .await;
        enabled.set(false);
        until(5, "closed once disabled", || {
            client.manager().connection_count() == 0
        })
        .await;
        assert_eq!(actor.status.get_untracked(), ConnStatus::Idle);
        owner.cleanup();
    });
}

#[test]
fn without_a_provider_the_hook_reports_an_error() {
    run(async {
        let owner = Owner::new();
        let actor = owner.with(|| use_actor_untyped("counter", "x"));
        until(5, "error reported", || {
            actor.error.get_untracked().is_some()
        })
        .await;
        assert!(matches!(
            actor.error.get_untracked(),
            Some(Error::InvalidInput {
                field: "client",
                ..
            })
        ));
        let action = owner.with(|| use_actor_action::<(), i64>(&actor, "getCount"));
        owner.with(|| action.dispatch(()));
        until(5, "action fails", || {
            matches!(action.value().get_untracked(), Some(Err(_)))
        })
        .await;
        owner.cleanup();
    });
}

#[test]
fn a_connection_level_error_while_connected_surfaces_at_once() {
    use rivet_test_support::hostile::{HostileGateway, Incoming};
    // A gateway that says Init, then reports a connection-level error and keeps the socket.
    let gateway = HostileGateway::start(|incoming| async move {
        if let Incoming::WebSocket(upgrade) = incoming {
            let mut socket = upgrade.accept().await;
            socket.send_init().await;
            tokio::time::sleep(Duration::from_millis(200)).await;
            socket
                .send_error(None, "user", "kicked", "you were kicked")
                .await;
            socket.serve_actions(|_, _| json!(null)).await;
        }
    });
    run(async move {
        let client = Client::new(gateway.endpoint().as_str()).unwrap();
        let (owner, actor) = mount(&client, || use_actor_untyped("counter", "kicked"));
        until(10, "the error is reported", || {
            actor.error.get_untracked().is_some()
        })
        .await;
        let error = actor.error.get_untracked().unwrap();
        assert_eq!(error.code(), Some("kicked"), "{error:?}");
        assert!(actor.is_connected.get_untracked(), "the socket stays open");
        owner.cleanup();
        client.dispose().await;
    });
}
