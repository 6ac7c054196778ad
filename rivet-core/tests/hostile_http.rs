//! Stateless calls (actions, queue sends, REST lookups, raw fetch) and inbound sizes against
//! the hostile gateway: deadlines that bound whole calls, retries that never repeat side
//! effects, and responses too large to buffer.
//!
//! The tests in this file run one at a time ([`serial`]): the memory tests measure the peak
//! resident memory of the whole test process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{unique_key, within};
use futures::StreamExt;
use rivet_core::{
    ActionOptions, Client, ClientConfig, Encoding, Error, LifecycleRetries, RawMessage, RawRequest,
};
use rivet_test_support::hostile::{HostileGateway, Incoming};
use serde_json::{json, Value};
use tokio::sync::{Mutex, MutexGuard};

/// A generous bound for a 1 s deadline on a busy 2-core machine.
const DEADLINE: Duration = Duration::from_secs(1);
const DEADLINE_BOUND: Duration = Duration::from_millis(2500);
/// The most the process may grow while refusing a huge body or message.
const MEMORY_BOUND: u64 = 32 * 1024 * 1024;
const MIB: u64 = 1024 * 1024;

async fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::const_new(());
    SERIAL.lock().await
}

fn client_for(
    gateway: &HostileGateway,
    configure: impl FnOnce(rivet_core::ClientConfigBuilder) -> rivet_core::ClientConfigBuilder,
) -> Client {
    let builder = ClientConfig::builder()
        .endpoint(gateway.endpoint())
        .encoding(Encoding::Json);
    Client::from_config(configure(builder).build().unwrap()).unwrap()
}

/// A gateway that answers every HTTP request with the RivetKit error `group.code` after
/// `delay`.
fn failing_gateway(
    status: u16,
    group: &'static str,
    code: &'static str,
    delay: Duration,
) -> HostileGateway {
    HostileGateway::start(move |incoming| async move {
        if let Incoming::Http(request) = incoming {
            tokio::time::sleep(delay).await;
            request.respond_error(status, group, code, "hostile").await;
        }
    })
}

fn assert_timeout(err: &Error, operation: &str, started: Instant) {
    let elapsed = started.elapsed();
    assert!(
        matches!(err, Error::Timeout { after, .. } if *after == DEADLINE),
        "expected a timeout after {DEADLINE:?}, got {err:?} after {elapsed:?}"
    );
    assert!(err.to_string().contains(operation), "{err}");
    assert!(
        elapsed < DEADLINE_BOUND,
        "a {DEADLINE:?} deadline took {elapsed:?}"
    );
    eprintln!("{operation}: timed out after {elapsed:?}");
}

// ---------------------------------------------------------------------------------------------
// Deadlines bound whole calls
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn action_deadline_bounds_retries_of_a_slow_gateway_error() {
    let _serial = serial().await;
    let gateway = failing_gateway(
        503,
        "guard",
        "actor_wake_retries_exceeded",
        Duration::from_millis(800),
    );
    let counter = client_for(&gateway, |b| b).get_or_create("counter", unique_key("slow-503"));
    let started = Instant::now();
    let err = within(
        20,
        "action",
        counter.action_with::<Value>("increment", (1,), ActionOptions::new().timeout(DEADLINE)),
    )
    .await
    .unwrap_err();
    assert_timeout(&err, "action increment", started);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_or_create_stops_at_its_deadline_while_the_actor_is_not_found() {
    let _serial = serial().await;
    let gateway = failing_gateway(404, "actor", "not_found", Duration::ZERO);
    let counter = client_for(&gateway, |b| b).get_or_create("counter", "missing");
    let started = Instant::now();
    let err = within(
        30,
        "action",
        counter.action_with::<Value>("getCount", (), ActionOptions::new().timeout(DEADLINE)),
    )
    .await
    .unwrap_err();
    assert_timeout(&err, "action getCount", started);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_send_and_raw_fetch_deadlines_bound_their_retries() {
    let _serial = serial().await;
    let gateway = failing_gateway(
        503,
        "guard",
        "actor_wake_retries_exceeded",
        Duration::from_millis(800),
    );
    let client = client_for(&gateway, |b| b.request_timeout(DEADLINE));
    let worker = client.get_or_create("worker", "slow-503");
    let started = Instant::now();
    let err = within(20, "queue send", worker.send("jobs", &json!({"n": 1})))
        .await
        .unwrap_err();
    assert_timeout(&err, "send to queue jobs", started);

    let started = Instant::now();
    let err = within(
        20,
        "raw fetch",
        worker.fetch("/items", RawRequest::get().timeout(DEADLINE)),
    )
    .await
    .unwrap_err();
    assert_timeout(&err, "GET /items", started);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_lookups_inside_a_call_are_bounded_by_its_deadline() {
    let _serial = serial().await;
    // Keys with a comma are resolved through the REST API first; that lookup never answers.
    let gateway = HostileGateway::start(|incoming| async move {
        if let Incoming::Http(request) = incoming {
            request.stall().await;
        }
    });
    let counter = client_for(&gateway, |b| b).get("counter", ["a,b"]);
    let started = Instant::now();
    let err = within(
        20,
        "action",
        counter.action_with::<Value>("getCount", (), ActionOptions::new().timeout(DEADLINE)),
    )
    .await
    .unwrap_err();
    assert_timeout(&err, "action getCount", started);
}

// ---------------------------------------------------------------------------------------------
// Retries never repeat side effects
// ---------------------------------------------------------------------------------------------

/// Errors after which the request may already have run on the actor.
const MAYBE_DELIVERED: [&str; 5] = [
    "actor_stopped_while_waiting",
    "tunnel_request_aborted",
    "tunnel_response_closed",
    "gateway_response_start_timeout",
    "request_delivery_unconfirmed",
];

/// Errors that prove the gateway never reached the actor.
const NOT_DELIVERED: [&str; 3] = [
    "actor_ready_timeout",
    "actor_wake_retries_exceeded",
    "service_unavailable",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_queue_sends_and_raw_posts_are_sent_once_when_they_may_have_run() {
    let _serial = serial().await;
    for code in MAYBE_DELIVERED {
        let gateway = failing_gateway(503, "guard", code, Duration::ZERO);
        let counter = client_for(&gateway, |b| b).get_or_create("counter", "once");
        let err = within(20, "action", counter.action::<Value>("increment", (1,)))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(code), "{err}");
        assert_eq!(gateway.http_requests(), 1, "action after guard.{code}");

        let err = within(20, "queue", counter.send("jobs", &1))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(code), "{err}");
        assert_eq!(gateway.http_requests(), 2, "queue send after guard.{code}");

        let err = within(
            20,
            "raw post",
            counter.fetch("/items", RawRequest::post(b"x".to_vec())),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), Some(code), "{err}");
        assert_eq!(gateway.http_requests(), 3, "raw POST after guard.{code}");
        eprintln!("guard.{code}: action, queue send, raw POST: 1 request each");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_repeated_when_the_actor_was_never_reached_and_gets_when_it_may_have_been() {
    let _serial = serial().await;
    let attempts = LifecycleRetries::default().lifecycle_attempts as usize;
    for code in NOT_DELIVERED {
        let gateway = failing_gateway(503, "guard", code, Duration::ZERO);
        let counter = client_for(&gateway, |b| b).get_or_create("counter", "again");
        let err = within(20, "action", counter.action::<Value>("increment", (1,)))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(code), "{err}");
        assert_eq!(
            gateway.http_requests(),
            attempts,
            "action after guard.{code}"
        );
        eprintln!("guard.{code}: action sent {attempts} times");
    }
    // A GET has no side effects to repeat.
    let gateway = failing_gateway(503, "guard", "actor_stopped_while_waiting", Duration::ZERO);
    let counter = client_for(&gateway, |b| b).get_or_create("counter", "get");
    let err = within(20, "raw get", counter.fetch("/items", RawRequest::get()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("actor_stopped_while_waiting"), "{err}");
    assert_eq!(gateway.http_requests(), attempts, "raw GET");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_reset_after_the_request_was_sent_is_not_repeated_for_a_post() {
    let _serial = serial().await;
    let gateway = HostileGateway::start(|incoming| async move {
        if let Incoming::Http(request) = incoming {
            // The request was read whole: from the client's side it may have run.
            request.reset();
        }
    });
    let counter = client_for(&gateway, |b| b).get_or_create("counter", "reset");
    let err = within(20, "action", counter.action::<Value>("increment", (1,)))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(gateway.http_requests(), 1, "{err}");
    let err = within(20, "raw get", counter.fetch("/items", RawRequest::get()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(
        gateway.http_requests(),
        1 + LifecycleRetries::default().lifecycle_attempts as usize,
        "a GET is repeated: {err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Inbound size is capped
// ---------------------------------------------------------------------------------------------

fn proc_status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// Runs `future` and returns its output with the growth of the process's peak resident memory
/// meanwhile, in bytes. The kernel's high-water mark is reset first, so earlier tests do not
/// count.
async fn peak_growth<F: Future>(future: F) -> (F::Output, u64) {
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = proc_status_kib("VmRSS:");
    let output = future.await;
    let peak = proc_status_kib("VmHWM:");
    (output, peak.saturating_sub(before) * 1024)
}

/// Streams a `total`-byte body (announced or not) from one 64 KiB buffer.
fn huge_body_gateway(total: u64, announce: bool, content_type: &'static str) -> HostileGateway {
    HostileGateway::start(move |incoming| async move {
        if let Incoming::Http(request) = incoming {
            let chunk = vec![b' '; 64 * 1024];
            request
                .respond_streaming(
                    200,
                    &[("content-type", content_type)],
                    announce.then_some(total),
                    total,
                    &chunk,
                )
                .await;
        }
    })
}

fn assert_too_large(err: &Error, limit: usize) {
    match err {
        Error::TooLarge {
            limit: l, setting, ..
        } => {
            assert_eq!(*l, limit, "{err}");
            assert!(err.to_string().contains(setting), "{err}");
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert!(!err.is_retryable());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_mb_action_response_fails_typed_without_being_buffered() {
    let _serial = serial().await;
    for announce in [true, false] {
        let gateway = huge_body_gateway(200 * MIB, announce, "application/json");
        let counter = client_for(&gateway, |b| b).get_or_create("counter", "huge");
        let started = Instant::now();
        let (result, growth) = peak_growth(within(
            30,
            "action",
            counter.action::<Value>("getCount", ()),
        ))
        .await;
        let err = result.unwrap_err();
        assert_too_large(&err, rivet_core::DEFAULT_MAX_RESPONSE_SIZE);
        assert!(err.to_string().contains("action getCount"), "{err}");
        eprintln!(
            "200 MB action body (content-length announced: {announce}): {err:?} after {:?}, peak RSS growth {} KiB",
            started.elapsed(),
            growth / 1024
        );
        assert!(growth < MEMORY_BOUND, "grew by {} MiB", growth / MIB);
        assert_eq!(
            gateway.http_requests(),
            1,
            "a too-large answer is not asked again"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_queue_rest_and_raw_responses_fail_typed_without_being_buffered() {
    let _serial = serial().await;
    let gateway = huge_body_gateway(200 * MIB, false, "application/json");
    let client = client_for(&gateway, |b| b);
    let (result, growth) = peak_growth(async {
        let worker = client.get_or_create("worker", "huge");
        let queue = within(30, "queue", worker.send("jobs", &1)).await;
        // A key with a comma is looked up through the REST API first.
        let rest = within(30, "rest", client.get("counter", ["a,b"]).resolve()).await;
        let raw = within(30, "raw", worker.fetch("/file", RawRequest::get())).await;
        let raw_small = within(
            30,
            "raw",
            worker.fetch("/file", RawRequest::get().max_response_size(1000)),
        )
        .await;
        (queue, rest, raw, raw_small)
    })
    .await;
    let (queue, rest, raw, raw_small) = result;
    assert_too_large(&queue.unwrap_err(), rivet_core::DEFAULT_MAX_RESPONSE_SIZE);
    assert_too_large(&rest.unwrap_err(), rivet_core::DEFAULT_MAX_RESPONSE_SIZE);
    assert_too_large(&raw.unwrap_err(), rivet_core::DEFAULT_MAX_RAW_RESPONSE_SIZE);
    let err = raw_small.unwrap_err();
    assert_too_large(&err, 1000);
    assert!(
        err.to_string().contains("RawRequest::max_response_size"),
        "{err}"
    );
    eprintln!(
        "200 MB queue, REST and raw bodies: peak RSS growth {} KiB",
        growth / 1024
    );
    assert!(growth < MEMORY_BOUND, "grew by {} MiB", growth / MIB);
}

/// Sends one binary message of `total` bytes in 1 MiB fragments, written from one 64 KiB
/// buffer, straight onto the TCP stream.
async fn send_fragmented(socket: &mut rivet_test_support::hostile::HostileSocket, total: u64) {
    const FRAGMENT: u64 = MIB;
    let chunk = vec![0x5a_u8; 64 * 1024];
    let fragments = total / FRAGMENT;
    for i in 0..fragments {
        let opcode = if i == 0 { 0x02 } else { 0x00 };
        let fin = if i + 1 == fragments { 0x80 } else { 0x00 };
        let mut header = vec![fin | opcode, 127];
        header.extend_from_slice(&FRAGMENT.to_be_bytes());
        socket.send_raw_bytes(&header).await;
        for _ in 0..FRAGMENT / chunk.len() as u64 {
            socket.send_raw_bytes(&chunk).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_60_mb_fragmented_raw_websocket_message_closes_the_socket_with_bounded_memory() {
    let _serial = serial().await;
    let gateway = HostileGateway::start(|incoming| async move {
        if let Incoming::WebSocket(upgrade) = incoming {
            let mut socket = upgrade.accept().await;
            send_fragmented(&mut socket, 60 * MIB).await;
            socket.stall().await;
        }
    });
    let limit = 4 * 1024 * 1024;
    let client = client_for(&gateway, |b| b.max_raw_response_size(limit));
    let actor = client.get_or_create("counter", "ws-huge");
    let (messages, growth) = peak_growth(async {
        let mut socket = within(20, "open", actor.web_socket("/chat", &[]))
            .await
            .unwrap();
        let mut messages = Vec::new();
        while let Some(message) = within(30, "next message", socket.next()).await {
            messages.push(match message {
                RawMessage::Binary(b) => format!("binary of {} bytes", b.len()),
                RawMessage::Text(t) => format!("text of {} bytes", t.len()),
                RawMessage::Closed { code, reason } => format!("closed {code:?} {reason:?}"),
            });
        }
        messages
    })
    .await;
    eprintln!(
        "60 MB fragmented raw WebSocket message: {messages:?}, peak RSS growth {} KiB",
        growth / 1024
    );
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].starts_with("closed Some(1009)"), "{messages:?}");
    assert!(growth < MEMORY_BOUND, "grew by {} MiB", growth / MIB);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_60_mb_fragmented_connection_message_is_dropped_with_bounded_memory() {
    let _serial = serial().await;
    let attempts = Arc::new(AtomicUsize::new(0));
    let gateway = {
        let attempts = attempts.clone();
        HostileGateway::start(move |incoming| {
            let attempt = attempts.fetch_add(1, Ordering::SeqCst);
            async move {
                if let Incoming::WebSocket(upgrade) = incoming {
                    let mut socket = upgrade.accept().await;
                    socket.send_init().await;
                    if attempt == 0 {
                        send_fragmented(&mut socket, 60 * MIB).await;
                    }
                    socket.stall().await;
                }
            }
        })
    };
    let client = client_for(&gateway, |b| b);
    let counter = client.get_or_create("counter", "conn-huge");
    let errors = Arc::new(std::sync::Mutex::new(Vec::new()));
    let ((), growth) = peak_growth(async {
        let connection = counter.connect().unwrap();
        let seen = errors.clone();
        let _errors = connection.on_error(move |err| seen.lock().unwrap().push(err.clone()));
        // The first socket must be given up (the message is over the limit) and a second one
        // opened.
        common::eventually(30, "a second socket", || {
            let seen = gateway.websocket_attempts();
            async move { seen >= 2 }
        })
        .await;
        within(10, "dispose", connection.dispose()).await;
    })
    .await;
    eprintln!(
        "60 MB fragmented connection message: {} sockets, peak RSS growth {} KiB",
        gateway.websocket_attempts(),
        growth / 1024
    );
    assert!(growth < MEMORY_BOUND, "grew by {} MiB", growth / MIB);
    let errors = errors.lock().unwrap();
    assert!(
        errors.iter().any(|e| matches!(
            e,
            Error::Disconnected {
                code: Some(1009),
                ..
            }
        )),
        "the socket ends as too big: {errors:?}"
    );
}
