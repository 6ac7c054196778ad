//! Benchmark contender: this client (`rivet-core`, native, default `bare` encoding).
//!
//! `bench-ours <endpoint> <figure> <count> <key>`; prints one JSON result line (see the
//! `rivet_bench` crate docs).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use rivet_bench::heap::{self, CountingAlloc};
use rivet_bench::{
    cpu_time, emit, latency_metrics, metric, rss_bytes, ContenderArgs, Figure, ACTOR, IDLE_BATCH,
    IN_FLIGHT,
};
use rivet_core::{ActorConnection, ActorHandle, Client};
use serde_json::{Map, Value};

/// How long the events figure waits for its last event.
const EVENTS_DEADLINE: Duration = Duration::from_secs(60);

/// Counts live heap bytes for `idle_memory` and allocations for `pipelined` (off otherwise).
#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

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
    let client = Client::new(&args.endpoint).map_err(err)?;
    let handle = client.get_or_create(ACTOR, [args.key.as_str()]);
    let n = args.count;
    let result = match args.figure {
        Figure::HttpLatency => http_latency(&handle, n).await,
        Figure::ConnLatency => conn_latency(&handle, n).await,
        Figure::Pipelined => pipelined(&handle, n).await,
        Figure::Events => events(&handle, n).await,
        Figure::ConnectFirst => connect_first(&handle, n).await,
        Figure::IdleMemory => idle_memory(&handle, n).await,
    };
    client.dispose().await;
    result
}

async fn http_latency(handle: &ActorHandle, n: u64) -> Result<Map<String, Value>, String> {
    for _ in 0..20 {
        handle.action::<Value>("getCount", ()).await.map_err(err)?;
    }
    let mut samples = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let start = Instant::now();
        handle.action::<Value>("getCount", ()).await.map_err(err)?;
        samples.push(start.elapsed());
    }
    Ok(latency_metrics(&mut samples))
}

async fn connected(handle: &ActorHandle) -> Result<ActorConnection, String> {
    let conn = handle.connect().map_err(err)?;
    conn.ready().await.map_err(err)?;
    Ok(conn)
}

async fn conn_latency(handle: &ActorHandle, n: u64) -> Result<Map<String, Value>, String> {
    let conn = connected(handle).await?;
    for _ in 0..50 {
        conn.action::<Value>("getCount", ()).await.map_err(err)?;
    }
    let mut samples = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let start = Instant::now();
        conn.action::<Value>("getCount", ()).await.map_err(err)?;
        samples.push(start.elapsed());
    }
    conn.dispose().await;
    Ok(latency_metrics(&mut samples))
}

/// `n` actions with [`IN_FLIGHT`] outstanding at any time.
async fn pipeline(conn: &ActorConnection, n: u64) -> Result<(), String> {
    futures::stream::iter(0..n)
        .map(|_| conn.action::<Value>("getCount", ()))
        .buffer_unordered(IN_FLIGHT)
        .map_err(err)
        .try_for_each(|_| async { Ok(()) })
        .await
}

async fn pipelined(handle: &ActorHandle, n: u64) -> Result<Map<String, Value>, String> {
    let conn = connected(handle).await?;
    pipeline(&conn, 2 * IN_FLIGHT as u64).await?;
    let cpu_before = cpu_time()?;
    let start = Instant::now();
    pipeline(&conn, n).await?;
    let elapsed = start.elapsed();
    let cpu = cpu_time()? - cpu_before;
    // Allocations per action: a second round of the same size, counted (the counting is off
    // during the timed round so that it costs the CPU figure nothing).
    heap::start_counting();
    let allocations_before = heap::allocations();
    pipeline(&conn, n).await?;
    let allocations = heap::allocations() - allocations_before;
    heap::stop_counting();
    conn.dispose().await;
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

async fn events(handle: &ActorHandle, n: u64) -> Result<Map<String, Value>, String> {
    let conn = connected(handle).await?;
    let received = Arc::new(AtomicU64::new(0));
    let target = Arc::new(AtomicU64::new(u64::MAX));
    let done = Arc::new(tokio::sync::Notify::new());
    let _listener = {
        let (received, target, done) = (received.clone(), target.clone(), done.clone());
        conn.on("tick", move |_event| {
            if received.fetch_add(1, Ordering::Relaxed) + 1 == target.load(Ordering::Relaxed) {
                done.notify_one();
            }
        })
    };
    // Warm-up round: also proves the subscription is in place before the measured one.
    for (round, count) in [100, n].into_iter().enumerate() {
        received.store(0, Ordering::Relaxed);
        target.store(count, Ordering::Relaxed);
        let start = Instant::now();
        conn.action::<Value>("emitMany", (count,))
            .await
            .map_err(err)?;
        if received.load(Ordering::Relaxed) < count {
            tokio::time::timeout(EVENTS_DEADLINE, done.notified())
                .await
                .map_err(|_| {
                    format!(
                        "only {} of {count} events after {EVENTS_DEADLINE:?}",
                        received.load(Ordering::Relaxed)
                    )
                })?;
        }
        let elapsed = start.elapsed();
        if round == 1 {
            conn.dispose().await;
            return Ok(metric("events_per_s", count as f64 / elapsed.as_secs_f64()));
        }
    }
    Err("unreachable: no measured round".into())
}

async fn connect_first(handle: &ActorHandle, n: u64) -> Result<Map<String, Value>, String> {
    let mut samples = Vec::with_capacity(n as usize);
    for i in 0..n + 5 {
        let start = Instant::now();
        let conn = handle.connect().map_err(err)?;
        conn.action::<Value>("getCount", ()).await.map_err(err)?;
        let elapsed = start.elapsed();
        conn.dispose().await;
        if i >= 5 {
            samples.push(elapsed);
        }
    }
    Ok(latency_metrics(&mut samples))
}

async fn idle_memory(handle: &ActorHandle, n: u64) -> Result<Map<String, Value>, String> {
    // One connection first, so that lazily initialised state is not counted per connection.
    let warm = connected(handle).await?;
    warm.action::<Value>("getCount", ()).await.map_err(err)?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_bytes()?;
    let heap_before = heap::live_bytes();
    let started = Instant::now();
    let mut conns = Vec::with_capacity(n as usize);
    // In batches: a burst of thousands of upgrades at once overwhelms the local engine.
    while (conns.len() as u64) < n {
        let batch = (n - conns.len() as u64).min(IDLE_BATCH);
        let mut opened = Vec::with_capacity(batch as usize);
        for _ in 0..batch {
            opened.push(handle.connect().map_err(err)?);
        }
        futures::future::try_join_all(opened.iter().map(|c| c.ready()))
            .await
            .map_err(err)?;
        conns.extend(opened);
    }
    let open_s = started.elapsed().as_secs_f64();
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
    out.insert("open_s".into(), Value::from(open_s));
    if std::env::var_os("RIVET_BENCH_EXIT_HELD").is_some() {
        // For heap profilers: exit with the connections still open, so that what an idle
        // connection holds is reported as memory live at exit (`heaptrack --print-leaks`).
        emit(Figure::IdleMemory.name(), Ok(out));
        std::process::exit(0);
    }
    for conn in &conns {
        conn.dispose().await;
    }
    warm.dispose().await;
    Ok(out)
}
