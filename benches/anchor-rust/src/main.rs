//! Benchmark contender: the official Rust crate, `rivetkit-client` 2.3.31 from crates.io
//! (native, its default `bare` encoding).
//!
//! `rivet-bench-anchor-rust <endpoint> <figure> <count> <key>`; prints one JSON line, the same
//! contract and the same measurements as the contenders in `benches/rivet-bench` (see its
//! `lib.rs`). Kept self-contained: this crate is its own workspace with its own lockfile.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use rivetkit_client::connection::ActorConnection;
use rivetkit_client::handle::ActorHandle;
use rivetkit_client::{Client, ClientConfig, ConnectionStatus, GetOrCreateOptions};
use serde_json::{json, Map, Value};

// The measurement and output code of every Rust contender, shared as source: this crate is
// its own workspace and cannot depend on `rivet-bench`.
#[path = "../../rivet-bench/src/measure.rs"]
#[allow(dead_code)] // `metric` and `percentile_us` serve the other contenders
mod measure;
use measure::{cpu_time, emit, latency_metrics, rss_bytes};

const IN_FLIGHT: usize = 200;
const OPEN_DEADLINE: Duration = Duration::from_secs(60);
const EVENTS_DEADLINE: Duration = Duration::from_secs(60);

type Metrics = Map<String, Value>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let figure = args.get(1).cloned().unwrap_or_else(|| "?".into());
    let result = match args.as_slice() {
        [endpoint, figure, count, key] if endpoint.starts_with("http://127.0.0.1:") => {
            match (
                count.parse::<u64>(),
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build(),
            ) {
                (Ok(n), Ok(rt)) => rt.block_on(run(endpoint, figure, n, key)),
                (Err(e), _) => Err(format!("bad count: {e}")),
                (_, Err(e)) => Err(format!("tokio runtime: {e}")),
            }
        }
        _ => Err("usage: <http://127.0.0.1:P> <figure> <count> <key>".into()),
    };
    emit(&figure, result);
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

async fn run(endpoint: &str, figure: &str, n: u64, key: &str) -> Result<Metrics, String> {
    let client = Client::new(ClientConfig::new(endpoint));
    let handle = client
        .get_or_create(
            "counter",
            vec![key.to_string()],
            GetOrCreateOptions::default(),
        )
        .map_err(err)?;
    let result = match figure {
        "http_latency" => http_latency(&handle, n).await,
        "conn_latency" => conn_latency(&handle, n).await,
        "pipelined" => pipelined(&handle, n).await,
        "events" => events(&handle, n).await,
        "connect_first" => connect_first(&handle, n).await,
        "idle_memory" => idle_memory(&handle, n).await,
        other => Err(format!("unknown figure {other}")),
    };
    client.dispose();
    result
}

async fn get_count(conn: &ActorConnection) -> Result<Value, String> {
    conn.action("getCount", vec![]).await.map_err(err)
}

/// `connect()` and wait until the connection reports `Connected`.
async fn open(handle: &ActorHandle) -> Result<ActorConnection, String> {
    let conn = handle.connect();
    let mut status = conn.status_receiver();
    tokio::time::timeout(OPEN_DEADLINE, async {
        while *status.borrow_and_update() != ConnectionStatus::Connected {
            if status.changed().await.is_err() {
                return Err("connection dropped before opening".to_string());
            }
        }
        Ok(())
    })
    .await
    .map_err(|_| "connection did not open in 60 s".to_string())??;
    Ok(conn)
}

async fn http_latency(handle: &ActorHandle, n: u64) -> Result<Metrics, String> {
    for _ in 0..20 {
        handle.action("getCount", vec![]).await.map_err(err)?;
    }
    let mut samples = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let start = Instant::now();
        handle.action("getCount", vec![]).await.map_err(err)?;
        samples.push(start.elapsed());
    }
    Ok(latency_metrics(&mut samples))
}

async fn conn_latency(handle: &ActorHandle, n: u64) -> Result<Metrics, String> {
    let conn = open(handle).await?;
    for _ in 0..50 {
        get_count(&conn).await?;
    }
    let mut samples = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let start = Instant::now();
        get_count(&conn).await?;
        samples.push(start.elapsed());
    }
    conn.disconnect().await;
    Ok(latency_metrics(&mut samples))
}

async fn pipeline(conn: &ActorConnection, n: u64) -> Result<(), String> {
    futures_util::stream::iter(0..n)
        .map(|_| get_count(conn))
        .buffer_unordered(IN_FLIGHT)
        .try_for_each(|_| async { Ok(()) })
        .await
}

async fn pipelined(handle: &ActorHandle, n: u64) -> Result<Metrics, String> {
    let conn = open(handle).await?;
    pipeline(&conn, 2 * IN_FLIGHT as u64).await?;
    let cpu_before = cpu_time()?;
    let start = Instant::now();
    pipeline(&conn, n).await?;
    let elapsed = start.elapsed();
    let cpu = cpu_time()? - cpu_before;
    conn.disconnect().await;
    let mut out = Map::new();
    out.insert("ops_per_s".into(), json!(n as f64 / elapsed.as_secs_f64()));
    out.insert(
        "cpu_us_per_action".into(),
        json!(cpu.as_secs_f64() * 1e6 / n as f64),
    );
    Ok(out)
}

async fn events(handle: &ActorHandle, n: u64) -> Result<Metrics, String> {
    let conn = open(handle).await?;
    let received = Arc::new(AtomicU64::new(0));
    let target = Arc::new(AtomicU64::new(u64::MAX));
    let done = Arc::new(tokio::sync::Notify::new());
    {
        let (received, target, done) = (received.clone(), target.clone(), done.clone());
        conn.on_event("tick", move |_args| {
            if received.fetch_add(1, Ordering::Relaxed) + 1 == target.load(Ordering::Relaxed) {
                done.notify_one();
            }
        })
        .await;
    }
    let mut out = Map::new();
    for (round, count) in [100, n].into_iter().enumerate() {
        received.store(0, Ordering::Relaxed);
        target.store(count, Ordering::Relaxed);
        let start = Instant::now();
        conn.action("emitMany", vec![json!(count)])
            .await
            .map_err(err)?;
        if received.load(Ordering::Relaxed) < count {
            tokio::time::timeout(EVENTS_DEADLINE, done.notified())
                .await
                .map_err(|_| {
                    format!(
                        "only {} of {count} events",
                        received.load(Ordering::Relaxed)
                    )
                })?;
        }
        if round == 1 {
            out.insert(
                "events_per_s".into(),
                json!(count as f64 / start.elapsed().as_secs_f64()),
            );
        }
    }
    conn.disconnect().await;
    Ok(out)
}

async fn connect_first(handle: &ActorHandle, n: u64) -> Result<Metrics, String> {
    let mut samples = Vec::with_capacity(n as usize);
    for i in 0..n + 5 {
        let start = Instant::now();
        let conn = handle.connect();
        get_count(&conn).await?;
        let elapsed = start.elapsed();
        conn.disconnect().await;
        if i >= 5 {
            samples.push(elapsed);
        }
    }
    Ok(latency_metrics(&mut samples))
}

async fn idle_memory(handle: &ActorHandle, n: u64) -> Result<Metrics, String> {
    let warm = open(handle).await?;
    get_count(&warm).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_bytes()?;
    // In batches of 100, as the other contenders: a burst of thousands of upgrades at once
    // overwhelms the local engine.
    let mut conns = Vec::with_capacity(n as usize);
    while (conns.len() as u64) < n {
        let batch = (n - conns.len() as u64).min(100);
        let opened = futures_util::future::join_all((0..batch).map(|_| open(handle))).await;
        for conn in opened {
            conns.push(conn?);
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_bytes()?;
    for conn in &conns {
        conn.disconnect().await;
    }
    warm.disconnect().await;
    let mut out = Map::new();
    out.insert(
        "rss_bytes_per_conn".into(),
        json!(after.saturating_sub(before) as f64 / n as f64),
    );
    out.insert("rss_before".into(), json!(before));
    out.insert("rss_after".into(), json!(after));
    Ok(out)
}
