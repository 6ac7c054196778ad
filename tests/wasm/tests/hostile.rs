//! The faults of the hostile gateway, seen from a browser page: the scenario gateway
//! (`rivet_test_support::scenarios`, started by `rivet-test-server`) misbehaves according to
//! the actor name, and the browser transport must react as the native one does (the native
//! side is in `rivet-core/tests/reliability.rs` and the hostile_* tests).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{client_for, hostile_endpoint, hostile_stats, now_ms, sleep_ms, unique_key, within};
use rivet_core::{ActionOptions, Encoding, Error};
use serde_json::Value;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Connects to scenario `name` for 3 s and returns how many sockets the gateway saw.
async fn attempts_in_three_seconds(name: &str) -> u64 {
    let key = unique_key(name);
    let client = client_for(hostile_endpoint(), Encoding::Json);
    let conn = client.get_or_create(name, key.as_str()).connect().unwrap();
    sleep_ms(3000).await;
    let (websocket, _) = hostile_stats(name, &key).await;
    within(10, "dispose", conn.dispose()).await;
    websocket
}

#[wasm_bindgen_test]
async fn a_server_that_closes_after_init_is_not_stormed() {
    for name in ["storm-close", "storm-garbage", "storm-reset"] {
        let attempts = attempts_in_three_seconds(name).await;
        // Backoff from 250 ms: a handful. Without it: hundreds to thousands.
        assert!(
            attempts <= 12,
            "{name}: {attempts} connection attempts in 3 s"
        );
    }
}

#[wasm_bindgen_test]
async fn a_server_close_1000_is_followed_by_a_reconnect() {
    let key = unique_key("drain");
    let client = client_for(hostile_endpoint(), Encoding::Json);
    let conn = client
        .get_or_create("drain", key.as_str())
        .connect()
        .unwrap();
    within(10, "ready", conn.ready()).await.unwrap();
    let first = conn.connection_id();
    let state = within(
        10,
        "reconnected",
        conn.observable_state()
            .wait_for(|s| s.is_connected() && s.connection_id != first),
    )
    .await;
    assert!(!state.terminal);
    let echoed: Value = within(10, "action", conn.action("echo", (5,)))
        .await
        .unwrap();
    assert_eq!(echoed, 5);
    within(10, "dispose", conn.dispose()).await;
}

#[wasm_bindgen_test]
async fn a_connection_error_while_connected_is_reported_at_once() {
    let key = unique_key("conn-error");
    let client = client_for(hostile_endpoint(), Encoding::Json);
    let conn = client
        .get_or_create("conn-error", key.as_str())
        .connect()
        .unwrap();
    within(10, "ready", conn.ready()).await.unwrap();
    let state = within(
        5,
        "error surfaced",
        conn.observable_state().wait_for(|s| s.last_error.is_some()),
    )
    .await;
    let err = state.last_error.unwrap();
    assert_eq!(err.code(), Some("kicked"), "{err:?}");
    within(10, "dispose", conn.dispose()).await;
}

#[wasm_bindgen_test]
async fn a_deadline_bounds_the_whole_call_retries_included() {
    for name in ["slow503", "notfound"] {
        let client = client_for(hostile_endpoint(), Encoding::Json);
        let handle = client.get_or_create(name, unique_key(name).as_str());
        let started = now_ms();
        let err = within(
            30,
            name,
            handle.action_with::<Value>(
                "increment",
                (1,),
                ActionOptions::new().timeout(Duration::from_secs(1)),
            ),
        )
        .await
        .unwrap_err();
        let took = now_ms() - started;
        assert!(took < 2500.0, "{name}: took {took} ms: {err:?}");
        assert!(matches!(err, Error::Timeout { .. }), "{name}: {err:?}");
    }
}

#[wasm_bindgen_test]
async fn a_request_that_may_have_reached_the_actor_is_sent_once() {
    let key = unique_key("maybe-ran");
    let client = client_for(hostile_endpoint(), Encoding::Json);
    let err = within(
        30,
        "call",
        client
            .get_or_create("maybe-ran", key.as_str())
            .action::<Value>("increment", (1,)),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Some("actor_stopped_while_waiting"), "{err:?}");
    let (_, http) = hostile_stats("maybe-ran", &key).await;
    assert_eq!(http, 1, "requests for one call");
}

#[wasm_bindgen_test]
async fn a_huge_answer_fails_with_a_typed_error_without_reading_it_all() {
    let client = client_for(hostile_endpoint(), Encoding::Json);
    let err = within(
        60,
        "huge answer",
        client
            .get_or_create("huge", unique_key("huge").as_str())
            .action::<Value>("increment", (1,)),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
}

#[wasm_bindgen_test]
async fn a_redirect_is_not_followed_with_the_credentials() {
    // A token in the endpoint: a followed redirect would take it to the other origin.
    let endpoint = hostile_endpoint().replace("http://", "http://default:tok-SECRET@");
    let client = client_for(&endpoint, Encoding::Json);
    let err = within(
        30,
        "redirected call",
        client
            .get_or_create("redirect", unique_key("redirect").as_str())
            .action::<Value>("increment", (1,)),
    )
    .await
    .unwrap_err();
    // Followed, the request would have failed to connect (nothing listens there).
    assert!(matches!(err, Error::Redirected { .. }), "{err:?}");
    assert!(!format!("{err:?} {err}").contains("tok-SECRET"), "{err:?}");
}
