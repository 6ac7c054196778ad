//! What every Rust contender measures and prints, the same way: latency percentiles, CPU time,
//! RSS and the one JSON result line. Only std and serde_json: `benches/anchor-rust` (its own
//! workspace, so it cannot depend on this crate) compiles this very file with `#[path]`.

use std::time::Duration;

use serde_json::{Map, Value};

/// Prints the one result line of a contender: the metrics, or the error.
pub fn emit(figure: &str, result: Result<Map<String, Value>, String>) {
    let mut line = Map::new();
    line.insert("figure".into(), Value::from(figure));
    match result {
        Ok(metrics) => {
            line.insert("ok".into(), Value::Bool(true));
            line.extend(metrics);
        }
        Err(error) => {
            line.insert("ok".into(), Value::Bool(false));
            line.insert("error".into(), Value::from(error));
        }
    }
    println!("{}", Value::Object(line));
}

/// Latency percentiles of `samples` as metrics `p50_us` / `p99_us` (nearest rank).
pub fn latency_metrics(samples: &mut [Duration]) -> Map<String, Value> {
    samples.sort_unstable();
    let mut out = Map::new();
    out.insert("p50_us".into(), Value::from(percentile_us(samples, 50.0)));
    out.insert("p99_us".into(), Value::from(percentile_us(samples, 99.0)));
    out.insert("n".into(), Value::from(samples.len()));
    out
}

/// The `p`-th percentile (nearest rank) of sorted `samples`, in microseconds.
pub fn percentile_us(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1e6
}

/// One metric map with a single entry.
pub fn metric(name: &str, value: f64) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert(name.into(), Value::from(value));
    out
}

/// CPU time (user + system) of this process so far, in nanoseconds of precision: the sum of
/// `/proc/self/task/*/schedstat` (time on CPU of every live thread). Contenders keep their
/// threads for the whole run, so nothing is lost with exited threads; `/proc/self/stat`'s
/// 10 ms ticks would be far too coarse for a few microseconds per action.
pub fn cpu_time() -> Result<Duration, String> {
    let tasks = std::fs::read_dir("/proc/self/task").map_err(|e| e.to_string())?;
    let mut nanos = 0u64;
    for task in tasks.flatten() {
        // A thread may exit between the listing and the read: skip it.
        if let Ok(stat) = std::fs::read_to_string(task.path().join("schedstat")) {
            nanos += stat
                .split_whitespace()
                .next()
                .and_then(|f| f.parse::<u64>().ok())
                .ok_or("malformed schedstat")?;
        }
    }
    Ok(Duration::from_nanos(nanos))
}

/// Resident set size of this process in bytes (`VmRSS` from `/proc/self/status`).
pub fn rss_bytes() -> Result<u64, String> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .ok_or_else(|| "no VmRSS in /proc/self/status".into())
}
