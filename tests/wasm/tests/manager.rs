//! The shared connection manager in the browser against a real server on another origin: one
//! socket per identity, per-lease listeners, grace-period teardown, disabled leases.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::cell::Cell;
use std::rc::Rc;

use common::{client, eventually, ms, unique_key, within};
use rivet_core::manager::ActorOptions;
use rivet_core::{ConnStatus, Encoding};
use serde_json::json;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

async fn socket_count(client: &rivet_core::Client, key: &str) -> u64 {
    let n: u64 = client
        .get_or_create("counter", key)
        .action("connCount", ())
        .await
        .unwrap();
    n - 1
}

#[wasm_bindgen_test]
async fn leases_share_one_socket_and_close_after_the_grace_period() {
    let client = client(Encoding::Bare);
    let manager = client.manager();
    manager.set_grace_period(ms(300));
    let key = unique_key("mgr");
    let a = manager
        .acquire(
            ActorOptions::new("counter", key.as_str())
                .params(&json!({"a": 1, "b": 2}))
                .unwrap(),
        )
        .unwrap();
    let b = manager
        .acquire(
            ActorOptions::new("counter", [key.as_str()])
                .params(&json!({"b": 2, "a": 1}))
                .unwrap(),
        )
        .unwrap();
    let seen_a = Rc::new(Cell::new(0));
    let seen_b = Rc::new(Cell::new(0));
    let listener_a = a.on("newCount", {
        let seen = seen_a.clone();
        move |_| seen.set(seen.get() + 1)
    });
    let _listener_b = b.on("newCount", {
        let seen = seen_b.clone();
        move |_| seen.set(seen.get() + 1)
    });
    within(30, "ready", a.ready()).await.unwrap();
    assert!(b.is_connected());
    assert_eq!(manager.opened_total(), 1);
    assert_eq!(socket_count(&client, &key).await, 1);

    let conn = a.connection().unwrap();
    let _: i64 = conn.action("increment", (1,)).await.unwrap();
    eventually(10, "both listeners", || async {
        seen_a.get() == 1 && seen_b.get() == 1
    })
    .await;
    drop(listener_a);
    let _: i64 = conn.action("increment", (1,)).await.unwrap();
    eventually(10, "b's listener again", || async { seen_b.get() == 2 }).await;
    assert_eq!(seen_a.get(), 1);
    drop(conn);

    drop((a, b));
    eventually(10, "closed after grace", || async {
        manager.connection_count() == 0 && client.live_connections() == 0
    })
    .await;
    eventually(10, "server saw it close", || async {
        socket_count(&client, &key).await == 0
    })
    .await;
}

#[wasm_bindgen_test]
async fn disabled_lease_opens_nothing() {
    let client = client(Encoding::Json);
    let lease = client
        .manager()
        .acquire(ActorOptions::new("counter", unique_key("off").as_str()).enabled(false))
        .unwrap();
    assert_eq!(lease.status(), ConnStatus::Idle);
    assert!(lease.connection().is_none());
    assert!(lease.ready().await.is_err());
    assert_eq!(client.live_connections(), 0);
}
