//! The fake server's controls, against the real client: dropped connections reconnect,
//! refused and delayed connects, a failed action, events emitted by the test, counters. No
//! node process: these run in milliseconds.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{both_fakes, client_of, start_fake, within, Counter, CounterActions};
use futures::StreamExt;
use rivet_core::{ConnStatus, ConnectOptions, Encoding, Error, ReconnectPolicy};
use rivet_testing::{ActorError, FakeActor, FakeServer, FakeServerError, PausedClock};
use serde_json::json;

async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "{what}: not true within 10 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_reconnect_and_resubscribe() {
    for server in both_fakes() {
        dropped_connections_reconnect(&server).await;
    }
}

async fn dropped_connections_reconnect(server: &FakeServer) {
    for encoding in Encoding::ALL {
        let key = format!("drop-{encoding}");
        let live = client_of(server, encoding)
            .get_or_create(Counter, key.as_str())
            .connect()
            .unwrap();
        let mut counts = live.events(Counter::NEW_COUNT);
        within(10, "ready", live.ready()).await.unwrap();
        let first = live.state().connection_id;
        until("subscribed", || {
            server.subscriptions(Counter, key.as_str(), "newCount") == 1
        })
        .await;
        assert_eq!(server.connections(Counter, key.as_str()), 1);

        assert_eq!(server.drop_connections(Counter, key.as_str()), 1);
        until("reconnected", || {
            live.state().status == ConnStatus::Connected && live.state().connection_id != first
        })
        .await;
        until("subscribed again", || {
            server.subscriptions(Counter, key.as_str(), "newCount") == 1
        })
        .await;
        assert_eq!(
            server.emit(Counter, key.as_str(), "newCount", vec![json!(41)]),
            1
        );
        let count = within(10, "event", counts.next()).await.unwrap().unwrap();
        assert_eq!(count, 41, "{encoding}");
        live.dispose().await;
        until("closed", || server.connections(Counter, key.as_str()) == 0).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connects_retry_until_allowed_and_delays_hold_init() {
    for server in both_fakes() {
        refused_then_delayed(&server).await;
    }
}

async fn refused_then_delayed(server: &FakeServer) {
    server.refuse_connects(true);
    let live = client_of(server, Encoding::Bare)
        .get_or_create(Counter, "refused")
        .connect()
        .unwrap();
    until("two refused attempts", || server.websocket_attempts() >= 2).await;
    assert_ne!(live.state().status, ConnStatus::Connected);
    assert!(!live.state().terminal, "refusals are retried");

    server.delay_connects(Duration::from_millis(300));
    server.refuse_connects(false);
    within(30, "ready after refusals", live.ready())
        .await
        .unwrap();
    assert_eq!(server.connections(Counter, "refused"), 1);
    live.dispose().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_actions_counters_and_state() {
    for server in both_fakes() {
        failed_actions(&server).await;
    }
}

async fn failed_actions(server: &FakeServer) {
    let counter = client_of(server, Encoding::Json).get_or_create(Counter, "fail");
    server.fail_next_action(
        Counter,
        "increment",
        ActorError::user("limit", "too many").with_metadata(json!({"max": 3})),
    );
    let err = counter.increment(1).await.unwrap_err();
    assert!(
        matches!(&err, Error::Actor(e) if e.code == "limit"),
        "{err:?}"
    );
    assert_eq!(err.metadata(), Some(&json!({"max": 3})));
    // Only the next call fails.
    assert_eq!(counter.increment(2).await.unwrap(), 2);
    assert_eq!(server.actions_called(Counter, "fail", "increment"), 2);
    assert_eq!(server.state::<i64>(Counter, "fail"), Some(2));
    assert!(server.actor_id(Counter, "fail").is_some());
    assert_eq!(server.actions_called(Counter, "missing", "increment"), 0);
}

#[test]
fn unknown_actors_fail_fast_and_duplicate_names_are_refused() {
    let server = FakeServer::builder().start().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let handle = client_of(&server, Encoding::Bare).get_or_create("nobody", "k");
        let err = within(10, "unknown actor", handle.action::<i64>("x", ()))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("unknown_actor"), "{err:?}");
    });
    let duplicate = FakeServer::builder()
        .actor(FakeActor::new("a"))
        .actor(FakeActor::new("a"))
        .start();
    assert!(matches!(duplicate, Err(FakeServerError::DuplicateActor(name)) if name == "a"));
}

#[test]
fn paused_clock_skips_the_reconnect_backoff() {
    let server = start_fake();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // A backoff a real-time test could not afford: 10 s, 20 s, 40 s, … before the retries.
        let policy = ReconnectPolicy {
            initial: Duration::from_secs(10),
            max: Duration::from_secs(600),
            jitter: 0.0,
            first_retry_jitter: Duration::ZERO,
            ..ReconnectPolicy::default()
        };
        let live = client_of(&server, Encoding::Json)
            .get_or_create(Counter, "paused")
            .connect_with(ConnectOptions::default().reconnect(policy))
            .unwrap();
        within(10, "ready", live.ready()).await.unwrap();

        let clock = PausedClock::pause().unwrap();
        let real_start = Instant::now();
        // Awaiting the fake over loopback while the clock is paused: the client's deadlines
        // stay where they are, however long the answer takes (tokio's auto-advance would fire
        // them at once).
        let count = within_real(10, "an action", live.increment(1)).await;
        assert_eq!(count.unwrap(), 1);
        server.refuse_connects(true);
        assert_eq!(server.drop_connections(Counter, "paused"), 1);
        let mut waits = Vec::new();
        let mut last_attempt = 0;
        for retry in 1..=3 {
            // The next retry scheduled (the first one after a drop may be immediate).
            // Real time passes in `settle`; the clock stands still until advanced.
            let deadline = Instant::now() + Duration::from_secs(10);
            let retry_in = loop {
                let state = live.state();
                if state.status == ConnStatus::Disconnected
                    && state.attempt > last_attempt
                    && state.next_retry_in.is_some_and(|d| !d.is_zero())
                {
                    last_attempt = state.attempt;
                    break state.next_retry_in.unwrap();
                }
                assert!(
                    Instant::now() < deadline,
                    "retry {retry} not scheduled: {state:?}"
                );
                clock.settle(Duration::from_millis(5)).await;
            };
            waits.push(retry_in);
            let attempts = server.websocket_attempts();
            clock.settle(Duration::from_millis(50)).await;
            assert_eq!(
                server.websocket_attempts(),
                attempts,
                "no retry before the clock moves"
            );
            clock.advance(retry_in).await;
            let deadline = Instant::now() + Duration::from_secs(10);
            while server.websocket_attempts() == attempts {
                assert!(Instant::now() < deadline, "no retry after advancing");
                clock.settle(Duration::from_millis(5)).await;
            }
        }
        assert!(waits[0] >= Duration::from_secs(10), "{waits:?}");
        assert_eq!(
            [waits[1], waits[2]],
            [waits[0] * 2, waits[0] * 4],
            "the backoff doubles"
        );
        server.refuse_connects(false);
        let retry_in = loop {
            if let Some(delay) = live.state().next_retry_in {
                break delay;
            }
            clock.settle(Duration::from_millis(5)).await;
        };
        clock.advance(retry_in).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while live.state().status != ConnStatus::Connected {
            assert!(Instant::now() < deadline, "not reconnected");
            clock.settle(Duration::from_millis(5)).await;
        }
        let waited: Duration = waits.iter().sum();
        assert!(real_start.elapsed() < waited, "{waited:?} of backoff");
        drop(live);
        drop(clock);
    });
}

/// `future`, or a panic after `secs` seconds of wall-clock time (a watchdog thread: the
/// test's tokio clock may be paused).
async fn within_real<F: std::future::Future>(secs: u64, what: &str, future: F) -> F::Output {
    let (expired, watchdog) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(secs));
        let _ = expired.send(());
    });
    tokio::select! {
        output = future => output,
        _ = watchdog => panic!("{what} did not finish within {secs} s of real time"),
    }
}
