//! The reliability table: every fault class the client must survive, each run against the real
//! server (through a fault-injecting proxy) or the hostile gateway, with the figures measured:
//! futures that hung past their deadline, connections or tasks left behind, actions lost or
//! run twice, time to recover, memory growth.
//!
//! One test runs the scenarios one after another (memory figures are per process), writes the
//! table as Markdown to `$CARGO_TARGET_TMPDIR/reliability.md` (and to `RIVET_RELIABILITY_OUT`
//! when set), prints it, and then asserts the zeros that must be zeros. `docs/reliability.md`
//! holds the table of the last full run.
#![allow(clippy::unwrap_used)] // also in helpers outside #[test] functions

mod common;

use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{client_for, unique_key, within};
use rivet_core::{
    ActionOptions, Client, ClientConfig, ConnectOptions, Encoding, Error, LifecycleRetries,
    ReconnectPolicy,
};
use rivet_test_support::hostile::{HostileGateway, Incoming};
use rivet_test_support::{TcpProxy, TestServer};
use serde_json::{json, Value};

/// Counts the live heap of this test binary, so a leak shows as bytes still allocated, not
/// as resident memory that the allocator merely kept for later.
#[global_allocator]
static ALLOCATOR: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

/// The live heap in KiB.
fn live_heap_kib() -> i64 {
    (ALLOCATOR.allocated() / 1024) as i64
}

/// One row of the table.
#[derive(Debug, Clone)]
struct Row {
    fault: &'static str,
    against: &'static str,
    /// Futures still pending well after their deadline (or `dispose()` calls that did not
    /// return within 5 s).
    hung: usize,
    /// Connection tasks alive after `dispose()` (client side) plus sockets the server side
    /// still saw open.
    leaked: usize,
    /// Actions that never got an answer nor an error.
    lost: usize,
    /// Actions the server saw more than once for one call.
    twice: usize,
    /// How long until the client worked again after the fault ended (or failed, for faults
    /// that must fail fast).
    recover: String,
    /// Peak RSS growth of the test process during the scenario, in KiB.
    memory_kib: i64,
    /// What else was measured.
    notes: String,
    /// What must hold beyond the zeros.
    goal: &'static str,
    /// Whether it held.
    met: bool,
}

impl Row {
    fn new(fault: &'static str, against: &'static str) -> Self {
        Row {
            fault,
            against,
            hung: 0,
            leaked: 0,
            lost: 0,
            twice: 0,
            recover: "n/a".into(),
            memory_kib: 0,
            notes: String::new(),
            goal: "",
            met: false,
        }
    }
}

fn status_kib(field: &str) -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

/// The resident set now; also resets the peak (`VmHWM`) to it, so [`peak_growth`] measures
/// from here.
fn rss_kib() -> i64 {
    // Linux: writing 5 resets the peak resident set size to the current one.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    status_kib("VmRSS:")
}

/// How far the resident set rose above `baseline` at its peak since the last [`rss_kib`].
fn peak_growth(baseline: i64) -> i64 {
    status_kib("VmHWM:").max(status_kib("VmRSS:")) - baseline
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn client_with(endpoint: &str, encoding: Encoding, retries: Option<LifecycleRetries>) -> Client {
    let mut builder = ClientConfig::builder()
        .endpoint(endpoint)
        .encoding(encoding);
    if let Some(retries) = retries {
        builder = builder.lifecycle_retries(retries);
    }
    Client::from_config(builder.build().unwrap()).unwrap()
}

/// Disposes `client` with a bound; returns (hung, leaked).
async fn dispose_and_count(client: &Client) -> (usize, usize) {
    let hung = usize::from(
        tokio::time::timeout(Duration::from_secs(5), client.dispose())
            .await
            .is_err(),
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while client.live_connections() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (hung, client.live_connections())
}

/// Runs `count` actions with `timeout` on `conn`; returns (hung, results) where hung counts
/// those still pending 3 s after their deadline.
async fn actions_with_deadline(
    conn: &rivet_core::ActorConnection,
    count: usize,
    name: &str,
    args: Value,
    timeout: Duration,
) -> (usize, Vec<rivet_core::Result<Value>>) {
    let mut tasks = Vec::new();
    for _ in 0..count {
        let conn = conn.clone();
        let name = name.to_owned();
        let args = args.clone();
        tasks.push(tokio::spawn(async move {
            conn.action_value(&name, args, timeout).await
        }));
    }
    let mut hung = 0;
    let mut results = Vec::new();
    for task in tasks {
        match tokio::time::timeout(timeout + Duration::from_secs(3), task).await {
            Ok(Ok(result)) => results.push(result),
            _ => hung += 1,
        }
    }
    (hung, results)
}

/// A gateway whose every connection gets `Init` and is then ended by `end`, counting sockets
/// still open.
fn storm_gateway(kind: &'static str) -> HostileGateway {
    HostileGateway::start(move |incoming| async move {
        let Incoming::WebSocket(upgrade) = incoming else {
            return;
        };
        let mut socket = upgrade.accept().await;
        socket.send_init().await;
        match kind {
            "close" => {
                socket
                    .close(1011, "guard.actor_wake_retries_exceeded#storm")
                    .await
            }
            "reset" => socket.reset(),
            _ => {
                socket.send_binary(vec![0xff, 0x00, 0x13, 0x37]).await;
                socket.send_text("{not json").await;
                let _ = tokio::time::timeout(Duration::from_secs(1), socket.next_message()).await;
            }
        }
    })
}

async fn storm(fault: &'static str, kind: &'static str) -> Row {
    let mut row = Row::new(fault, "hostile gateway");
    let gateway = storm_gateway(kind);
    let client = client_with(&gateway.endpoint(), Encoding::Json, None);
    let conn = client
        .get_or_create("counter", "storm")
        .connect_with(ConnectOptions::new().action_timeout(Duration::from_secs(1)))
        .unwrap();
    // An observer nobody reads, as a component that stopped polling would hold.
    let unread = conn.states();
    let before = rss_kib();
    let started = Instant::now();
    let (hung, _) = actions_with_deadline(&conn, 5, "x", json!([]), Duration::from_secs(1)).await;
    let elapsed = started.elapsed();
    if elapsed < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_secs(3) - elapsed).await;
    }
    let attempts = gateway.websocket_attempts();
    row.memory_kib = peak_growth(before);
    drop(unread);
    let (dispose_hung, leaked) = dispose_and_count(&client).await;
    row.hung = hung + dispose_hung;
    row.leaked = leaked;
    row.notes = format!("{attempts} connection attempts in 3 s");
    row.goal =
        "backoff keeps growing: at most 12 attempts in 3 s; unread observer bounded (< 4 MiB)";
    row.met = attempts <= 12 && row.memory_kib < 4096;
    row
}

async fn stalled_peer() -> Row {
    let mut row = Row::new("peer stops reading (Init, then silence)", "hostile gateway");
    let gateway = HostileGateway::start(|incoming| async move {
        if let Incoming::WebSocket(upgrade) = incoming {
            let mut socket = upgrade.accept().await;
            socket.send_init().await;
            socket.stall().await;
        }
    });
    let client = client_with(&gateway.endpoint(), Encoding::Json, None);
    let conn = client
        .get_or_create("counter", "stall")
        .connect_with(
            ConnectOptions::new()
                .ping(Some(Duration::from_millis(500)), Duration::from_secs(1))
                .max_message_size(1 << 20),
        )
        .unwrap();
    within(10, "ready", conn.ready()).await.unwrap();
    let first = conn.connection_id();
    let before = rss_kib();
    let started = Instant::now();
    // 200 × 60 KB: more than the loopback socket buffers hold.
    let big = "x".repeat(60_000);
    let (hung, _) =
        actions_with_deadline(&conn, 200, "fill", json!([big]), Duration::from_secs(3)).await;
    let detected = tokio::time::timeout(
        Duration::from_secs(10),
        conn.observable_state()
            .wait_for(|s| s.connection_id != first || !s.is_connected()),
    )
    .await;
    row.recover = match &detected {
        Ok(_) => format!("stuck peer detected after {}", secs(started.elapsed())),
        Err(_) => "never detected (still Connected after 10 s)".into(),
    };
    row.memory_kib = peak_growth(before);
    let dispose_started = Instant::now();
    let (dispose_hung, leaked) = dispose_and_count(&client).await;
    row.hung = hung + dispose_hung;
    row.leaked = leaked;
    let dispose_took = dispose_started.elapsed();
    row.notes = format!("dispose() took {}", secs(dispose_took));
    row.goal = "stuck peer detected and left; dispose() returns within 3 s";
    row.met = detected.is_ok() && dispose_took < Duration::from_secs(3);
    row
}

/// A gateway answering every HTTP request with `status group.code` after `delay`.
fn erroring_gateway(
    delay: Duration,
    status: u16,
    group: &'static str,
    code: &'static str,
) -> HostileGateway {
    HostileGateway::start(move |incoming| async move {
        if let Incoming::Http(request) = incoming {
            tokio::time::sleep(delay).await;
            request
                .respond_error(status, group, code, "made up by the hostile gateway")
                .await;
        }
    })
}

/// A stateless call with a 1 s deadline against `gateway`: it must end in `Error::Timeout`
/// within 2.5 s however many retries the errors invite.
async fn call_deadline(fault: &'static str, gateway: HostileGateway) -> Row {
    let mut row = Row::new(fault, "hostile gateway");
    let client = client_with(&gateway.endpoint(), Encoding::Json, None);
    let handle = client.get_or_create("counter", "deadline");
    let started = Instant::now();
    let call = handle.action_with::<Value>(
        "increment",
        (1,),
        ActionOptions::new().timeout(Duration::from_secs(1)),
    );
    match tokio::time::timeout(Duration::from_secs(60), call).await {
        Ok(result) => {
            row.recover = format!("failed after {}", secs(started.elapsed()));
            row.notes = format!(
                "{} requests; {}",
                gateway.http_requests(),
                result.as_ref().err().map(kind).unwrap_or_default()
            );
            row.hung = usize::from(started.elapsed() > Duration::from_secs(3));
            row.met = started.elapsed() < Duration::from_millis(2500)
                && matches!(result, Err(Error::Timeout { .. }));
        }
        Err(_) => row.hung = 1,
    }
    row.goal = "the 1 s deadline bounds the call, retries included: Timeout within 2.5 s";
    row
}

async fn slow_unavailable() -> Row {
    let gateway = erroring_gateway(
        Duration::from_millis(800),
        503,
        "guard",
        "actor_ready_timeout",
    );
    call_deadline("HTTP 503 guard.* after 0.8 s, call deadline 1 s", gateway).await
}

async fn missing_actor_get_or_create() -> Row {
    let gateway = erroring_gateway(Duration::ZERO, 404, "actor", "not_found");
    call_deadline(
        "HTTP 404 actor.not_found on get_or_create, deadline 1 s",
        gateway,
    )
    .await
}

async fn maybe_delivered() -> Row {
    let mut row = Row::new(
        "HTTP 503 guard.actor_stopped_while_waiting (may have run)",
        "hostile gateway",
    );
    let gateway = erroring_gateway(Duration::ZERO, 503, "guard", "actor_stopped_while_waiting");
    let client = client_with(&gateway.endpoint(), Encoding::Json, None);
    let handle = client.get_or_create("counter", "twice");
    let result = tokio::time::timeout(
        Duration::from_secs(30),
        handle.action::<Value>("increment", (1,)),
    )
    .await;
    row.hung = usize::from(result.is_err());
    row.twice = gateway.http_requests().saturating_sub(1);
    row.notes = format!("{} requests for one call", gateway.http_requests());
    row.goal = "a request that may have reached the actor is sent once";
    row.met = gateway.http_requests() == 1;
    row
}

async fn server_close_1000() -> Row {
    let mut row = Row::new("server closes 1000 (disconnect, drain)", "hostile gateway");
    let sockets = Arc::new(AtomicUsize::new(0));
    let counter = sockets.clone();
    let gateway = HostileGateway::start(move |incoming| {
        let counter = counter.clone();
        async move {
            let Incoming::WebSocket(upgrade) = incoming else {
                return;
            };
            let mut socket = upgrade.accept().await;
            socket.send_init().await;
            if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                tokio::time::sleep(Duration::from_millis(300)).await;
                socket.close(1000, "bye").await;
            } else {
                socket.serve_actions(|_, _| json!(42)).await;
            }
        }
    });
    let client = client_with(&gateway.endpoint(), Encoding::Json, None);
    let conn = client.get_or_create("counter", "drain").connect().unwrap();
    within(10, "ready", conn.ready()).await.unwrap();
    let first = conn.connection_id();
    let started = Instant::now();
    let back = tokio::time::timeout(
        Duration::from_secs(10),
        conn.observable_state()
            .wait_for(|s| s.is_connected() && s.connection_id != first),
    )
    .await;
    row.recover = match &back {
        Ok(_) => format!("reconnected after {}", secs(started.elapsed())),
        Err(_) => format!("not reconnected: {:?}", conn.status()),
    };
    let works = matches!(
        tokio::time::timeout(Duration::from_secs(10), conn.action::<i64>("x", ())).await,
        Ok(Ok(42))
    );
    let (dispose_hung, leaked) = dispose_and_count(&client).await;
    row.hung = dispose_hung;
    row.leaked = leaked;
    row.notes = format!("works after: {works}");
    row.goal = "a close the client did not ask for is followed by a reconnect";
    row.met = back.is_ok() && works;
    row
}

async fn huge_http_body() -> Row {
    let mut row = Row::new("HTTP answer of 200 MB", "hostile gateway");
    let gateway = HostileGateway::start(|incoming| async move {
        if let Incoming::Http(request) = incoming {
            let chunk = vec![b'7'; 64 * 1024];
            let total = 200 * 1024 * 1024;
            request
                .respond_streaming(
                    200,
                    &[("content-type", "application/json")],
                    Some(total),
                    total,
                    &chunk,
                )
                .await;
        }
    });
    let client = client_with(&gateway.endpoint(), Encoding::Json, None);
    let before = rss_kib();
    let started = Instant::now();
    let result = tokio::time::timeout(
        Duration::from_secs(60),
        client
            .get_or_create("counter", "huge")
            .action::<Value>("increment", (1,)),
    )
    .await;
    row.memory_kib = peak_growth(before);
    match result {
        Ok(result) => {
            row.recover = format!("failed after {}", secs(started.elapsed()));
            row.met = row.memory_kib < 32 * 1024 && matches!(result, Err(Error::TooLarge { .. }));
            row.notes = result
                .err()
                .map(|e| kind(&e))
                .unwrap_or_else(|| "Ok?!".into());
        }
        Err(_) => row.hung = 1,
    }
    row.goal = "a typed size error without buffering the body (peak < 32 MiB)";
    row
}

async fn huge_ws_message() -> Row {
    use rivet_test_support::hostile::HostileSocket;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::Message;

    async fn send_fragmented(socket: &mut HostileSocket, total: usize) {
        let chunk = bytes_of(1024 * 1024);
        let frames = total / chunk.len();
        for i in 0..frames {
            let opcode = if i == 0 {
                OpCode::Data(Data::Binary)
            } else {
                OpCode::Data(Data::Continue)
            };
            let frame = Frame::message(chunk.clone(), opcode, i + 1 == frames);
            socket.send_message(Message::Frame(frame)).await;
        }
    }

    let mut row = Row::new("WebSocket message of 60 MB (fragmented)", "hostile gateway");
    let gateway = HostileGateway::start(|incoming| async move {
        if let Incoming::WebSocket(upgrade) = incoming {
            let mut socket = upgrade.accept().await;
            socket.send_init().await;
            send_fragmented(&mut socket, 60 * 1024 * 1024).await;
            let _ = tokio::time::timeout(Duration::from_secs(5), socket.next_message()).await;
        }
    });
    let client = client_with(&gateway.endpoint(), Encoding::Bare, None);
    let conn = client
        .get_or_create("counter", "huge-ws")
        .connect_with(ConnectOptions::new().reconnect(ReconnectPolicy::never()))
        .unwrap();
    let before = rss_kib();
    let started = Instant::now();
    let ended = tokio::time::timeout(
        Duration::from_secs(30),
        conn.observable_state()
            .wait_for(|s| s.last_error.is_some() || s.terminal),
    )
    .await;
    row.memory_kib = peak_growth(before);
    match ended {
        Ok(state) => {
            row.recover = format!("socket failed after {}", secs(started.elapsed()));
            row.met = row.memory_kib < 32 * 1024
                && matches!(&state.last_error, Some(e) if !matches!(e, Error::Decode { .. }));
            row.notes = state.last_error.as_ref().map(kind).unwrap_or_default();
        }
        Err(_) => row.hung = 1,
    }
    row.goal = "a typed size error without buffering the message (peak < 32 MiB)";
    let (dispose_hung, leaked) = dispose_and_count(&client).await;
    row.hung += dispose_hung;
    row.leaked = leaked;
    row
}

fn bytes_of(len: usize) -> tokio_tungstenite::tungstenite::Bytes {
    vec![0x42u8; len].into()
}

async fn dropped_socket(server: &TestServer) -> Row {
    let mut row = Row::new(
        "socket dropped under 5 in-flight actions",
        "real server + proxy",
    );
    let proxy = TcpProxy::start(server.addr());
    let client = client_with(&proxy.endpoint(), Encoding::Bare, None);
    let conn = client
        .get_or_create("counter", unique_key("rel-drop").as_str())
        .connect()
        .unwrap();
    within(30, "ready", conn.ready()).await.unwrap();
    let first = conn.connection_id();
    let before = rss_kib();
    let in_flight = {
        let conn = conn.clone();
        tokio::spawn(async move {
            actions_with_deadline(&conn, 5, "slow", json!([3000]), Duration::from_secs(10)).await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.drop_all();
    let started = Instant::now();
    let (hung, results) = in_flight.await.unwrap();
    row.hung = hung;
    row.lost = 5 - hung - results.len();
    let disconnected = results
        .iter()
        .filter(|r| matches!(r, Err(Error::Disconnected { .. })))
        .count();
    let back = tokio::time::timeout(
        Duration::from_secs(30),
        conn.observable_state()
            .wait_for(|s| s.is_connected() && s.connection_id != first),
    )
    .await;
    row.recover = match back {
        Ok(_) => format!("reconnected after {}", secs(started.elapsed())),
        Err(_) => "not reconnected in 30 s".into(),
    };
    let works = conn.action::<i64>("getCount", ()).await.is_ok();
    row.memory_kib = peak_growth(before);
    let (dispose_hung, leaked) = dispose_and_count(&client).await;
    row.hung += dispose_hung;
    row.leaked = leaked;
    row.notes = format!("{disconnected}/5 rejected as Disconnected; works after: {works}");
    row.goal = "in-flight actions rejected at once, reconnected, usable";
    row.met = disconnected == 5 && works;
    row
}

async fn refused_connects(server: &TestServer) -> Row {
    let mut row = Row::new("connects refused for 3 s", "real server + proxy");
    let proxy = TcpProxy::start(server.addr());
    proxy.set_refuse(true);
    let client = client_with(&proxy.endpoint(), Encoding::Bare, None);
    let conn = client
        .get_or_create("counter", unique_key("rel-refuse").as_str())
        .connect()
        .unwrap();
    let (hung, _) =
        actions_with_deadline(&conn, 3, "getCount", json!([]), Duration::from_secs(1)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let refused = proxy.refused_count();
    proxy.set_refuse(false);
    let started = Instant::now();
    let back = tokio::time::timeout(Duration::from_secs(30), conn.ready()).await;
    row.met = matches!(back, Ok(Ok(())));
    row.goal = "keeps retrying with backoff and connects once the server accepts";
    row.recover = match back {
        Ok(Ok(())) => format!("connected after {}", secs(started.elapsed())),
        Ok(Err(e)) => format!("gave up: {}", kind(&e)),
        Err(_) => "not connected in 30 s".into(),
    };
    let (dispose_hung, leaked) = dispose_and_count(&client).await;
    row.hung = hung + dispose_hung;
    row.leaked = leaked;
    row.notes = format!("{refused} attempts while refused");
    row
}

async fn rejected_params(server: &TestServer) -> Row {
    let mut row = Row::new("connection params rejected", "real server + proxy");
    let proxy = TcpProxy::start(server.addr());
    let client = client_with(&proxy.endpoint(), Encoding::Json, None);
    let conn = client
        .get_or_create("chatRoom", unique_key("rel-reject").as_str())
        .connect_with(
            ConnectOptions::new()
                .params(&json!({"token": "wrong", "user": "eve"}))
                .unwrap(),
        )
        .unwrap();
    let started = Instant::now();
    let ready = tokio::time::timeout(Duration::from_secs(30), conn.ready()).await;
    let rejected = matches!(&ready, Ok(Err(Error::Rejected(_))));
    row.recover = match ready {
        Ok(Err(e)) => format!(
            "ready() failed after {}: {}",
            secs(started.elapsed()),
            kind(&e)
        ),
        Ok(Ok(())) => "connected?!".into(),
        Err(_) => {
            row.hung += 1;
            "ready() hung".into()
        }
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (hung, _) =
        actions_with_deadline(&conn, 3, "getCount", json!([]), Duration::from_secs(1)).await;
    let (dispose_hung, leaked) = dispose_and_count(&client).await;
    row.hung += hung + dispose_hung;
    row.leaked = leaked;
    // One TCP connection is the client's metadata lookup (`GET /metadata`, once per client).
    let attempts = proxy.accepted_count().saturating_sub(1);
    row.notes = format!("{attempts} connection attempts");
    row.goal = "ready() fails with Rejected; no retry";
    row.met = rejected && attempts == 1;
    row
}

async fn oversized_action(server: &TestServer) -> Row {
    let mut row = Row::new("action over the server's 64 KiB limit", "real server");
    let client = client_for(&server.endpoint(), Encoding::Json);
    let conn = client
        .get_or_create("counter", unique_key("rel-big").as_str())
        .connect_with(ConnectOptions::new().max_message_size(1 << 20))
        .unwrap();
    within(30, "ready", conn.ready()).await.unwrap();
    let big = "x".repeat(100_000);
    let err = within(30, "oversized", conn.action::<Value>("increment", (big,)))
        .await
        .unwrap_err();
    let started = Instant::now();
    let after = tokio::time::timeout(
        Duration::from_secs(30),
        conn.action::<i64>("increment", (1,)),
    )
    .await;
    row.met = matches!(after, Ok(Ok(_))) && err.code() == Some("incoming_too_long");
    row.goal = "a typed error with the server's code; the connection stays usable";
    row.recover = match after {
        Ok(Ok(_)) => format!("next action ok after {}", secs(started.elapsed())),
        Ok(Err(e)) => format!("next action failed: {}", kind(&e)),
        Err(_) => {
            row.hung += 1;
            "next action hung".into()
        }
    };
    let (dispose_hung, leaked) = dispose_and_count(&client).await;
    row.hung += dispose_hung;
    row.leaked = leaked;
    row.notes = kind(&err);
    row
}

async fn server_restart() -> Row {
    let mut row = Row::new("full server restart (node + engine)", "real server");
    let mut server = tokio::task::spawn_blocking(TestServer::start)
        .await
        .unwrap()
        .unwrap();
    let client = client_for(&server.endpoint(), Encoding::Bare);
    let conn = client
        .get_or_create("counter", unique_key("rel-restart").as_str())
        .connect()
        .unwrap();
    within(30, "ready", conn.ready()).await.unwrap();
    let first = conn.connection_id();
    let restarted = tokio::task::spawn_blocking(move || server.restart().map(|()| server));
    let mut server = within(120, "restart", restarted).await.unwrap().unwrap();
    let started = Instant::now();
    let back = tokio::time::timeout(
        Duration::from_secs(60),
        conn.observable_state()
            .wait_for(|s| s.is_connected() && s.connection_id != first),
    )
    .await;
    row.recover = match back {
        Ok(_) => format!(
            "reconnected {} after the server was up",
            secs(started.elapsed())
        ),
        Err(_) => "not reconnected in 60 s".into(),
    };
    let works = matches!(
        tokio::time::timeout(Duration::from_secs(30), conn.action::<i64>("getCount", ())).await,
        Ok(Ok(_))
    );
    row.notes = format!("works after: {works}");
    row.goal = "reconnects by itself and works";
    row.met = works;
    let (dispose_hung, leaked) = dispose_and_count(&client).await;
    row.hung = dispose_hung;
    row.leaked = leaked;
    tokio::task::spawn_blocking(move || server.stop())
        .await
        .unwrap();
    row
}

/// Rounds of the churn scenario; the live heap is compared between the end of round
/// `WARM_UP` and the end of the last round (a leak grows with every round; pools and caches
/// that the first rounds fill do not).
const ROUNDS: usize = 6;
const WARM_UP: usize = 2;

async fn churn() -> Row {
    let mut row = Row::new(
        "1000 connections opened and dropped, 6 rounds",
        "hostile gateway",
    );
    let open = Arc::new(AtomicUsize::new(0));
    let counter = open.clone();
    let gateway = HostileGateway::start(move |incoming| {
        let counter = counter.clone();
        async move {
            let Incoming::WebSocket(upgrade) = incoming else {
                return;
            };
            let mut socket = upgrade.accept().await;
            counter.fetch_add(1, Ordering::SeqCst);
            socket.send_init().await;
            socket.serve_actions(|_, _| json!(1)).await;
            counter.fetch_sub(1, Ordering::SeqCst);
        }
    });
    let client = client_with(&gateway.endpoint(), Encoding::Bare, None);
    let mut after_round = Vec::new();
    let started = Instant::now();
    for round in 0..ROUNDS {
        let conns: Vec<_> = (0..1000)
            .map(|i| {
                client
                    .get_or_create("counter", format!("churn-{round}-{i}").as_str())
                    .connect()
                    .unwrap()
            })
            .collect();
        for conn in &conns {
            within(60, "ready", conn.ready()).await.unwrap();
        }
        drop(conns);
        let deadline = Instant::now() + Duration::from_secs(20);
        while (client.live_connections() > 0 || open.load(Ordering::SeqCst) > 0)
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        after_round.push((live_heap_kib(), rss_kib()));
    }
    row.leaked = client.live_connections() + open.load(Ordering::SeqCst);
    row.memory_kib = after_round[ROUNDS - 1].0 - after_round[WARM_UP - 1].0;
    row.recover = format!("{ROUNDS} rounds in {}", secs(started.elapsed()));
    row.notes = format!(
        "memory column: live heap growth from the end of round {WARM_UP} to the end of round {ROUNDS}; live heap / RSS after each round: {} MiB",
        after_round
            .iter()
            .map(|(heap, rss)| format!("{:.1} / {:.1}", *heap as f64 / 1024.0, *rss as f64 / 1024.0))
            .collect::<Vec<_>>()
            .join(", ")
    );
    row.goal =
        "every socket and task released; the live heap does not grow between rounds (< 1 MiB)";
    row.met = row.leaked == 0 && row.memory_kib < 1024;
    let (dispose_hung, _) = dispose_and_count(&client).await;
    row.hung = dispose_hung;
    row
}

/// The variant name and code of an error, for the table.
fn kind(err: &Error) -> String {
    let variant = format!("{err:?}");
    let variant = variant
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or("")
        .to_owned();
    match err.code() {
        Some(code) => format!("{variant} ({code})"),
        None => variant,
    }
}

fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| fault | against | hung futures | leaked connections | actions lost | run twice | recovery | peak memory growth | measured | goal | met |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} KiB | {} | {} | {} |",
            r.fault,
            r.against,
            r.hung,
            r.leaked,
            r.lost,
            r.twice,
            r.recover,
            r.memory_kib,
            r.notes,
            r.goal,
            if r.met { "yes" } else { "**no**" }
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reliability_table() {
    // RIVET_RELIABILITY_ONLY=churn,storm-close runs a subset (a scenario's id, below).
    let only = std::env::var("RIVET_RELIABILITY_ONLY").unwrap_or_default();
    let wanted = |id: &str| only.is_empty() || only.split(',').any(|o| o.trim() == id);
    let server = TestServer::shared();
    let mut rows = Vec::new();
    if wanted("storm-close") {
        rows.push(storm("Init, then close 1011 guard.*", "close").await);
    }
    if wanted("storm-reset") {
        rows.push(storm("Init, then TCP reset", "reset").await);
    }
    if wanted("storm-garbage") {
        rows.push(storm("Init, then an undecodable message", "garbage").await);
    }
    if wanted("stall") {
        rows.push(stalled_peer().await);
    }
    if wanted("slow503") {
        rows.push(slow_unavailable().await);
    }
    if wanted("notfound") {
        rows.push(missing_actor_get_or_create().await);
    }
    if wanted("maybe-ran") {
        rows.push(maybe_delivered().await);
    }
    if wanted("close1000") {
        rows.push(server_close_1000().await);
    }
    if wanted("huge-http") {
        rows.push(huge_http_body().await);
    }
    if wanted("huge-ws") {
        rows.push(huge_ws_message().await);
    }
    if wanted("dropped") {
        rows.push(dropped_socket(server).await);
    }
    if wanted("refused") {
        rows.push(refused_connects(server).await);
    }
    if wanted("rejected") {
        rows.push(rejected_params(server).await);
    }
    if wanted("oversized") {
        rows.push(oversized_action(server).await);
    }
    if wanted("restart") {
        rows.push(server_restart().await);
    }
    if wanted("churn") {
        rows.push(churn().await);
    }

    let markdown = table(&rows);
    println!("{markdown}");
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("reliability.md");
    std::fs::write(&path, &markdown).unwrap();
    if let Ok(out) = std::env::var("RIVET_RELIABILITY_OUT") {
        std::fs::write(out, &markdown).unwrap();
    }

    for r in &rows {
        assert_eq!(
            (r.hung, r.leaked, r.lost, r.twice),
            (0, 0, 0, 0),
            "{}: {r:?}",
            r.fault
        );
        assert!(r.met, "{}: goal not met ({}): {r:?}", r.fault, r.goal);
    }
}
