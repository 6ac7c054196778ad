//! Observers stay bounded: an unread state stream costs a fixed amount of memory however many
//! changes happen, and its reader still ends at the latest state, told how much it skipped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{client_for, unique_key, within};
use futures::{FutureExt, StreamExt};
use rivet_core::observable::{Changes, Observable, BUFFERED_CHANGES};
use rivet_core::{ConnStatus, ConnectionState, Encoding};
use rivet_test_support::hostile::{HostileGateway, Incoming};

/// The resident set size of this process in KiB (`VmRSS`), where the platform reports it.
/// The project forbids `unsafe`, so no counting allocator: the figure is the whole process's,
/// and the bounds below leave room for the other tests of this binary running alongside.
fn rss_kib() -> Option<i64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Held by the tests that measure the process's memory, so they do not measure each other.
static MEASURING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn measuring() -> std::sync::MutexGuard<'static, ()> {
    MEASURING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One state of a reconnect storm: every attempt a new connection id (a heap string), as the
/// driver publishes them.
fn storm_state(n: u32) -> ConnectionState {
    let mut state = ConnectionState::default();
    state.status = if n % 2 == 0 {
        ConnStatus::Connecting
    } else {
        ConnStatus::Connected
    };
    state.attempt = n;
    state.connection_id = Some(format!("b74626dd-da09-473b-b038-{n:012}"));
    state
}

/// Everything the stream has ready right now, without waiting.
fn drain_ready<T>(changes: &mut Changes<T>) -> Vec<T> {
    let mut out = Vec::new();
    while let Some(Some(item)) = changes.next().now_or_never() {
        out.push(item);
    }
    out
}

#[test]
fn an_unread_state_stream_stays_bounded_during_a_reconnect_storm() {
    const STORM: u32 = 200_000;
    let _measuring = measuring();
    let state = Observable::new(ConnectionState::default());
    let mut unread = state.subscribe();
    let before = rss_kib();
    for n in 1..=STORM {
        state.set(storm_state(n));
    }
    assert_eq!(unread.backlog(), BUFFERED_CHANGES, "buffered changes");
    if let (Some(before), Some(after)) = (before, rss_kib()) {
        // With an unbounded channel per subscriber this grew by 49.8 MB (~250 bytes a change).
        let grown = after - before;
        println!("unread state stream after {STORM} changes: RSS grew {grown} KiB");
        assert!(
            grown < 16 * 1024,
            "RSS grew {grown} KiB after {STORM} changes"
        );
    }

    let seen = drain_ready(&mut unread);
    assert_eq!(
        seen.len(),
        BUFFERED_CHANGES,
        "the most recent changes, no more"
    );
    assert_eq!(
        seen.last(),
        Some(&storm_state(STORM)),
        "ends at the latest state"
    );
    let first = STORM - BUFFERED_CHANGES as u32 + 1;
    assert_eq!(seen[0], storm_state(first), "the oldest buffered change");
    // The initial state and changes 1..first were skipped.
    assert_eq!(unread.lagged(), u64::from(first));
}

#[test]
fn a_million_changes_to_an_unread_counter_keep_memory_flat() {
    let _measuring = measuring();
    let count = Observable::new(0_u64);
    let mut unread = count.subscribe();
    let before = rss_kib();
    for n in 1..=1_000_000 {
        count.set(n);
    }
    assert_eq!(unread.backlog(), BUFFERED_CHANGES);
    if let (Some(before), Some(after)) = (before, rss_kib()) {
        // With an unbounded channel per subscriber this grew by 130-180 MB.
        let grown = after - before;
        println!("unread counter after 1,000,000 changes: RSS grew {grown} KiB");
        assert!(grown < 16 * 1024, "RSS grew {grown} KiB");
    }
    let seen = drain_ready(&mut unread);
    assert_eq!(seen.last(), Some(&1_000_000));
    assert_eq!(unread.lagged(), 1_000_000 - BUFFERED_CHANGES as u64 + 1);
}

#[test]
fn a_reader_that_keeps_up_sees_every_transition() {
    let state = Observable::new(ConnectionState::default());
    let mut reader = state.subscribe();
    assert_eq!(drain_ready(&mut reader), vec![ConnectionState::default()]);
    for tick in 0..1_000 {
        // Several transitions in one tick, as a reconnect makes them.
        let burst: Vec<ConnectionState> = (0..5).map(|i| storm_state(tick * 5 + i)).collect();
        for s in &burst {
            state.set(s.clone());
        }
        assert_eq!(drain_ready(&mut reader), burst);
    }
    assert_eq!(reader.lagged(), 0);
}

#[test]
fn wait_for_finds_the_value_set_by_a_busy_writer() {
    let state = Observable::new(ConnectionState::default());
    let writer = state.clone();
    let thread = std::thread::spawn(move || {
        for n in 1..=100_000 {
            writer.set(storm_state(n));
        }
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let found = runtime.block_on(async {
        tokio::time::timeout(
            std::time::Duration::from_secs(60),
            state.wait_for(|s| s.attempt == 100_000),
        )
        .await
        .expect("wait_for returns once the latest value matches")
    });
    assert_eq!(found, storm_state(100_000));
    thread.join().unwrap();
}

/// The storm of issue 12: a gateway that accepts, sends `Init`, then closes with a retryable
/// guard error, while nobody reads the connection's `states()`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// The guard only keeps the other measuring tests (plain threads) out; no task here takes it.
#[allow(clippy::await_holding_lock)]
async fn an_unread_states_stream_stays_bounded_against_a_gateway_that_closes_after_init() {
    let _measuring = measuring();
    let gateway = HostileGateway::start(|incoming| async move {
        match incoming {
            Incoming::WebSocket(upgrade) => {
                let mut socket = upgrade.accept().await;
                socket.send_init().await;
                socket.close(1011, "guard.service_unavailable").await;
            }
            Incoming::Http(request) => request.respond(404, &[], "").await,
        }
    });
    let conn = client_for(&gateway.endpoint(), Encoding::Bare)
        .get_or_create("counter", unique_key("storm").as_str())
        .connect()
        .unwrap();
    let mut unread = conn.states();
    let rss_before = rss_kib();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let backlog = unread.backlog();
    let rss_after = rss_kib();
    within(10, "dispose", conn.dispose()).await;

    let drained = drain_ready(&mut unread);
    let changes = unread.lagged() + drained.len() as u64;
    println!(
        "storm: {} connections in 3 s, {changes} state changes, backlog {backlog}, RSS {:?} -> {:?} KiB",
        gateway.accepted(),
        rss_before,
        rss_after,
    );
    assert!(backlog <= BUFFERED_CHANGES, "backlog {backlog}");
    assert!(drained.len() <= BUFFERED_CHANGES);
    assert_eq!(
        drained.last(),
        Some(&conn.state()),
        "ends at the final state"
    );
    assert!(conn.state().terminal, "{:?}", conn.state());
}
