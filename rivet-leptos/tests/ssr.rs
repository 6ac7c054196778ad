//! Under the `ssr` feature the hooks do no network work (run with `--features ssr`).
#![cfg(feature = "ssr")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use leptos::prelude::*;
use rivet_core::{Client, ConnStatus};
use rivet_leptos::prelude::*;

#[test]
fn server_rendering_opens_nothing_and_reports_idle() {
    let _ = any_spawner::Executor::init_tokio();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio::task::LocalSet::new().block_on(&runtime, async {
        // Nothing listens here: any attempt to connect would be visible as a connection.
        let client = Client::new("http://127.0.0.1:9").unwrap();
        let owner = Owner::new();
        let actor = owner.with(|| {
            provide_rivet(client.clone());
            let actor = use_actor_untyped("counter", "ssr");
            use_event_untyped(&actor, "newCount", |_| {});
            actor
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        any_spawner::Executor::tick().await;
        assert_eq!(actor.status.get_untracked(), ConnStatus::Idle);
        assert!(actor.connection.get_untracked().is_none());
        assert_eq!(client.manager().connection_count(), 0);
        assert_eq!(client.manager().opened_total(), 0);
        owner.cleanup();
    });
}
