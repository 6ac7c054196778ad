//! Benchmark contender: the floor. No client library: a bare `tokio-tungstenite` WebSocket
//! speaking the JSON protocol (subprotocols `rivet` + `rivet_encoding.json`), and hand-written
//! keep-alive HTTP/1.1 for the stateless figure.
//!
//! `bench-floor <endpoint> <figure> <count> <key>`; prints one JSON result line (see the
//! `rivet_bench` crate docs).

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use rivet_bench::heap::{self, CountingAlloc};
use rivet_bench::{
    cpu_time, emit, gateway_path, latency_metrics, metric, rss_bytes, ContenderArgs, Figure,
    IN_FLIGHT,
};
use serde_json::{json, Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Bound on every single read in this contender.
const READ_DEADLINE: Duration = Duration::from_secs(60);

/// Counts live heap bytes for `idle_memory` and allocations for `pipelined` (off otherwise).
#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// tungstenite's read buffer per socket: its default (128 KiB) unless
/// `RIVET_BENCH_FLOOR_READ_BUFFER` says otherwise (to see what the socket stack costs with the
/// 8 KiB rivet-core uses).
fn ws_config() -> Option<WebSocketConfig> {
    let bytes = std::env::var("RIVET_BENCH_FLOOR_READ_BUFFER").ok()?;
    let bytes = bytes.parse::<usize>().ok()?;
    Some(WebSocketConfig::default().read_buffer_size(bytes))
}

fn main() {
    let args = match ContenderArgs::from_env() {
        Ok(args) => args,
        Err(e) => {
            emit("?", Err(e));
            std::process::exit(2);
        }
    };
    if args.figure == Figure::IdleMemory {
        // From the start, so that every block freed later was counted when allocated.
        heap::start_counting();
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let result = match runtime {
        Ok(rt) => rt.block_on(run(&args)),
        Err(e) => Err(format!("tokio runtime: {e}")),
    };
    emit(args.figure.name(), result);
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

async fn run(args: &ContenderArgs) -> Result<Map<String, Value>, String> {
    let n = args.count;
    match args.figure {
        Figure::HttpLatency => http_latency(args, n).await,
        Figure::ConnLatency => conn_latency(args, n).await,
        Figure::Pipelined => pipelined(args, n).await,
        Figure::Events => events(args, n).await,
        Figure::ConnectFirst => connect_first(args, n).await,
        Figure::IdleMemory => idle_memory(args, n).await,
    }
}

// --- HTTP -------------------------------------------------------------------------------------

/// One keep-alive HTTP/1.1 connection to the gateway.
struct Http {
    stream: TcpStream,
    host: String,
    buf: Vec<u8>,
}

impl Http {
    async fn connect(endpoint: &str) -> Result<Http, String> {
        let host = endpoint.trim_start_matches("http://").to_string();
        let stream = TcpStream::connect(&host).await.map_err(err)?;
        stream.set_nodelay(true).map_err(err)?;
        Ok(Http {
            stream,
            host,
            buf: Vec::with_capacity(4096),
        })
    }

    /// POSTs a JSON action and returns the response body.
    async fn action(&mut self, path: &str, body: &str) -> Result<Vec<u8>, String> {
        let request = format!(
            "POST {path} HTTP/1.1\r\nhost: {}\r\nx-rivet-encoding: json\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        );
        self.stream
            .write_all(request.as_bytes())
            .await
            .map_err(err)?;
        self.buf.clear();
        let (head_end, content_length) = loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..end]).to_ascii_lowercase();
                if !head.starts_with("http/1.1 200") {
                    return Err(format!("HTTP {}", head.lines().next().unwrap_or("")));
                }
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .ok_or("response without content-length")?;
                break (end + 4, length);
            }
            self.read_more().await?;
        };
        while self.buf.len() < head_end + content_length {
            self.read_more().await?;
        }
        Ok(self.buf[head_end..head_end + content_length].to_vec())
    }

    async fn read_more(&mut self) -> Result<(), String> {
        let mut chunk = [0u8; 4096];
        let read = tokio::time::timeout(READ_DEADLINE, self.stream.read(&mut chunk))
            .await
            .map_err(|_| "HTTP read timed out".to_string())?
            .map_err(err)?;
        if read == 0 {
            return Err("connection closed by the server".into());
        }
        self.buf.extend_from_slice(&chunk[..read]);
        Ok(())
    }
}

async fn http_latency(args: &ContenderArgs, n: u64) -> Result<Map<String, Value>, String> {
    let mut http = Http::connect(&args.endpoint).await?;
    let path = gateway_path(&args.key, "/action/getCount");
    let body = r#"{"args":[]}"#;
    for _ in 0..20 {
        http.action(&path, body).await?;
    }
    let mut samples = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let start = Instant::now();
        let reply = http.action(&path, body).await?;
        serde_json::from_slice::<Value>(&reply).map_err(err)?;
        samples.push(start.elapsed());
    }
    Ok(latency_metrics(&mut samples))
}

// --- WebSocket --------------------------------------------------------------------------------

/// Opens `/connect` and waits for `Init`.
async fn connect(args: &ContenderArgs) -> Result<Socket, String> {
    let url = format!(
        "ws://{}{}",
        args.endpoint.trim_start_matches("http://"),
        gateway_path(&args.key, "/connect")
    );
    let mut request = url.into_client_request().map_err(err)?;
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("rivet, rivet_encoding.json"),
    );
    // `true`: TCP_NODELAY, as every client library sets it.
    let (mut socket, _) = tokio_tungstenite::connect_async_with_config(request, ws_config(), true)
        .await
        .map_err(err)?;
    match next_message(&mut socket).await? {
        (tag, _) if tag == "Init" => Ok(socket),
        (tag, val) => Err(format!("expected Init, got {tag}: {val}")),
    }
}

fn action_request(id: u64, name: &str, args: Value) -> Message {
    Message::text(
        json!({"body": {"tag": "ActionRequest", "val": {"id": id, "name": name, "args": args}}})
            .to_string(),
    )
}

/// The next protocol message: `(tag, val)`.
async fn next_message(socket: &mut Socket) -> Result<(String, Value), String> {
    loop {
        let frame = tokio::time::timeout(READ_DEADLINE, socket.next())
            .await
            .map_err(|_| "WebSocket read timed out".to_string())?
            .ok_or("socket closed")?
            .map_err(err)?;
        let text = match frame {
            Message::Text(text) => text,
            Message::Close(close) => return Err(format!("socket closed: {close:?}")),
            _ => continue,
        };
        let mut message: Value = serde_json::from_str(&text).map_err(err)?;
        let body = message
            .get_mut("body")
            .map(Value::take)
            .ok_or("message without body")?;
        let tag = body["tag"].as_str().unwrap_or("").to_string();
        return Ok((tag, body["val"].clone()));
    }
}

/// Waits for the response to one action; fails on an `Error`.
async fn response(socket: &mut Socket) -> Result<Value, String> {
    loop {
        match next_message(socket).await? {
            (tag, val) if tag == "ActionResponse" => return Ok(val),
            (tag, val) if tag == "Error" => return Err(format!("action error: {val}")),
            _ => continue,
        }
    }
}

async fn conn_latency(args: &ContenderArgs, n: u64) -> Result<Map<String, Value>, String> {
    let mut socket = connect(args).await?;
    let mut samples = Vec::with_capacity(n as usize);
    for id in 0..n + 50 {
        let start = Instant::now();
        socket
            .send(action_request(id, "getCount", json!([])))
            .await
            .map_err(err)?;
        response(&mut socket).await?;
        if id >= 50 {
            samples.push(start.elapsed());
        }
    }
    socket.close(None).await.ok();
    Ok(latency_metrics(&mut samples))
}

/// `n` actions with [`IN_FLIGHT`] outstanding; ids start at `first_id`.
async fn pipeline(socket: &mut Socket, first_id: u64, n: u64) -> Result<(), String> {
    let (mut sent, mut done) = (0u64, 0u64);
    while sent < n.min(IN_FLIGHT as u64) {
        socket
            .feed(action_request(first_id + sent, "getCount", json!([])))
            .await
            .map_err(err)?;
        sent += 1;
    }
    socket.flush().await.map_err(err)?;
    while done < n {
        response(socket).await?;
        done += 1;
        if sent < n {
            socket
                .send(action_request(first_id + sent, "getCount", json!([])))
                .await
                .map_err(err)?;
            sent += 1;
        }
    }
    Ok(())
}

async fn pipelined(args: &ContenderArgs, n: u64) -> Result<Map<String, Value>, String> {
    let mut socket = connect(args).await?;
    let warm = 2 * IN_FLIGHT as u64;
    pipeline(&mut socket, 0, warm).await?;
    let cpu_before = cpu_time()?;
    let start = Instant::now();
    pipeline(&mut socket, warm, n).await?;
    let elapsed = start.elapsed();
    let cpu = cpu_time()? - cpu_before;
    // Allocations per action: a second, counted round of the same size.
    heap::start_counting();
    let allocations_before = heap::allocations();
    pipeline(&mut socket, warm + n, n).await?;
    let allocations = heap::allocations() - allocations_before;
    heap::stop_counting();
    socket.close(None).await.ok();
    let mut out = metric("ops_per_s", n as f64 / elapsed.as_secs_f64());
    out.insert(
        "cpu_us_per_action".into(),
        Value::from(cpu.as_secs_f64() * 1e6 / n as f64),
    );
    out.insert(
        "allocs_per_action".into(),
        Value::from(allocations as f64 / n as f64),
    );
    Ok(out)
}

async fn events(args: &ContenderArgs, n: u64) -> Result<Map<String, Value>, String> {
    let mut socket = connect(args).await?;
    socket
        .send(Message::text(
            json!({"body": {"tag": "SubscriptionRequest", "val": {"eventName": "tick", "subscribe": true}}})
                .to_string(),
        ))
        .await
        .map_err(err)?;
    let mut elapsed = Duration::ZERO;
    for (id, count) in [100, n].into_iter().enumerate() {
        let start = Instant::now();
        socket
            .send(action_request(id as u64, "emitMany", json!([count])))
            .await
            .map_err(err)?;
        let (mut events, mut answered) = (0u64, false);
        while events < count || !answered {
            match next_message(&mut socket).await? {
                (tag, val) if tag == "Event" && val["name"] == "tick" => events += 1,
                (tag, _) if tag == "ActionResponse" => answered = true,
                (tag, val) if tag == "Error" => return Err(format!("action error: {val}")),
                _ => {}
            }
        }
        elapsed = start.elapsed();
    }
    socket.close(None).await.ok();
    Ok(metric("events_per_s", n as f64 / elapsed.as_secs_f64()))
}

async fn connect_first(args: &ContenderArgs, n: u64) -> Result<Map<String, Value>, String> {
    let mut samples = Vec::with_capacity(n as usize);
    for i in 0..n + 5 {
        let start = Instant::now();
        let mut socket = connect(args).await?;
        socket
            .send(action_request(0, "getCount", json!([])))
            .await
            .map_err(err)?;
        response(&mut socket).await?;
        let elapsed = start.elapsed();
        socket.close(None).await.ok();
        if i >= 5 {
            samples.push(elapsed);
        }
    }
    Ok(latency_metrics(&mut samples))
}

async fn idle_memory(args: &ContenderArgs, n: u64) -> Result<Map<String, Value>, String> {
    let mut warm = connect(args).await?;
    warm.send(action_request(0, "getCount", json!([])))
        .await
        .map_err(err)?;
    response(&mut warm).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_bytes()?;
    let heap_before = heap::live_bytes();
    let opened = futures::stream::iter(0..n)
        .map(|_| connect(args))
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await;
    let mut sockets = Vec::with_capacity(opened.len());
    for socket in opened {
        sockets.push(socket?);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_bytes()?;
    let heap_after = heap::live_bytes();
    let mut out = metric(
        "rss_bytes_per_conn",
        after.saturating_sub(before) as f64 / n as f64,
    );
    out.insert(
        "heap_bytes_per_conn".into(),
        Value::from(heap::live_delta(heap_before, heap_after) as f64 / n as f64),
    );
    out.insert("rss_before".into(), Value::from(before));
    out.insert("rss_after".into(), Value::from(after));
    for mut socket in sockets {
        socket.close(None).await.ok();
    }
    Ok(out)
}
