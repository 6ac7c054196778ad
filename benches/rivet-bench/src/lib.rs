//! Shared pieces of the `rivet-bench` harness and of its Rust contender processes.
//!
//! The harness (`rivet-bench`, `src/main.rs`) starts one isolated RivetKit server and runs every
//! contender as its own child process, one figure at a time, so CPU time and RSS are measured
//! per process. Every contender (`bench-ours`, `bench-floor`, the node script in `benches/js`
//! and the official crate in `benches/anchor-rust`) speaks the same contract:
//!
//! ```text
//! <contender> <endpoint> <figure> <count> <key>
//! ```
//!
//! and prints exactly one JSON line on stdout: `{"figure":…,"ok":true,<metrics>}` or
//! `{"figure":…,"ok":false,"error":"…"}`. The metrics of each [`Figure`] are listed in
//! [`Figure::metrics`]. Contenders only talk to the `127.0.0.1` endpoint they are given.

pub mod heap;
pub mod measure;

pub use measure::{cpu_time, emit, latency_metrics, metric, percentile_us, rss_bytes};

/// Actions kept in flight on one connection by the pipelined figures.
pub const IN_FLIGHT: usize = 200;

/// Connections opened at once by `idle_memory` before waiting for them to be ready.
pub const IDLE_BATCH: u64 = 100;

/// The actor every figure talks to (the test server's `counter`).
pub const ACTOR: &str = "counter";

/// One measured quantity, as named on the command line and in the JSON results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Figure {
    /// Sequential stateless HTTP actions (`getCount`): latency percentiles.
    HttpLatency,
    /// Sequential actions over one persistent connection: latency percentiles.
    ConnLatency,
    /// Actions per second with [`IN_FLIGHT`] requests outstanding on one connection, and the
    /// client CPU time (user + sys) per action over that same run.
    Pipelined,
    /// Broadcast events received per second (`emitMany(n)` broadcasting `tick`).
    Events,
    /// Time from opening a connection to the answer of its first action.
    ConnectFirst,
    /// RSS growth per idle open connection.
    IdleMemory,
}

/// Whether a larger or a smaller value of a metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// Latencies, CPU, memory.
    Lower,
    /// Throughputs.
    Higher,
}

impl Figure {
    /// Every figure, in the order the harness runs them.
    pub const ALL: [Figure; 6] = [
        Figure::HttpLatency,
        Figure::ConnLatency,
        Figure::Events,
        Figure::ConnectFirst,
        Figure::IdleMemory,
        // Last: a flood of pipelined actions leaves the server's actor tunnel backed up for a
        // while (new actors then fail to resolve), see `BENCHMARKS.md`.
        Figure::Pipelined,
    ];

    /// The name used on the command line and in the JSON results.
    pub fn name(self) -> &'static str {
        match self {
            Figure::HttpLatency => "http_latency",
            Figure::ConnLatency => "conn_latency",
            Figure::Pipelined => "pipelined",
            Figure::Events => "events",
            Figure::ConnectFirst => "connect_first",
            Figure::IdleMemory => "idle_memory",
        }
    }

    /// Parses a [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Figure> {
        Figure::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The metrics a contender reports for this figure: `(key, unit, better)`.
    pub fn metrics(self) -> &'static [(&'static str, &'static str, Better)] {
        match self {
            Figure::HttpLatency | Figure::ConnLatency | Figure::ConnectFirst => &[
                ("p50_us", "µs", Better::Lower),
                ("p99_us", "µs", Better::Lower),
            ],
            Figure::Pipelined => &[
                ("ops_per_s", "actions/s", Better::Higher),
                ("cpu_us_per_action", "µs CPU", Better::Lower),
                ("allocs_per_action", "allocs", Better::Lower),
            ],
            Figure::Events => &[("events_per_s", "events/s", Better::Higher)],
            Figure::IdleMemory => &[
                ("rss_bytes_per_conn", "bytes", Better::Lower),
                ("heap_bytes_per_conn", "bytes", Better::Lower),
            ],
        }
    }

    /// The default count: operations for the latency and throughput figures, events for
    /// [`Figure::Events`], connections for [`Figure::IdleMemory`].
    pub fn default_count(self) -> u64 {
        match self {
            Figure::HttpLatency => 200,
            Figure::ConnLatency => 500,
            Figure::Pipelined => 2_000,
            Figure::Events => 5_000,
            Figure::ConnectFirst => 50,
            Figure::IdleMemory => 1_000,
        }
    }
}

/// The command line every contender takes: `<endpoint> <figure> <count> <key>`.
#[derive(Debug, Clone)]
pub struct ContenderArgs {
    /// The gateway, `http://127.0.0.1:P`.
    pub endpoint: String,
    /// What to measure.
    pub figure: Figure,
    /// How many operations (or events, or connections).
    pub count: u64,
    /// The `counter` key to use, unique per contender and figure.
    pub key: String,
}

impl ContenderArgs {
    /// Reads the arguments of this process, or explains what is wrong with them.
    pub fn from_env() -> Result<ContenderArgs, String> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let [endpoint, figure, count, key] = args.as_slice() else {
            return Err("usage: <endpoint> <figure> <count> <key>".into());
        };
        if !endpoint.starts_with("http://127.0.0.1:") {
            return Err(format!(
                "only loopback endpoints are allowed, got {endpoint}"
            ));
        }
        let figure =
            Figure::from_name(figure).ok_or_else(|| format!("unknown figure {figure:?}"))?;
        let count = count
            .parse::<u64>()
            .map_err(|e| format!("bad count {count:?}: {e}"))?;
        Ok(ContenderArgs {
            endpoint: endpoint.clone(),
            figure,
            count,
            key: key.clone(),
        })
    }
}

/// The query-gateway path of the `counter` actor `key` (get-or-create), for `suffix`
/// (`/connect`, `/action/getCount`).
pub fn gateway_path(key: &str, suffix: &str) -> String {
    format!(
        "/gateway/{ACTOR}{suffix}?rvt-namespace=default&rvt-method=getOrCreate&rvt-runner=default&rvt-key={key}&rvt-crash-policy=sleep"
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(percentile_us(&samples, 50.0), 50.0);
        assert_eq!(percentile_us(&samples, 99.0), 99.0);
        assert_eq!(percentile_us(&samples[..1], 99.0), 1.0);
    }

    #[test]
    fn figures_round_trip_their_names() {
        for figure in Figure::ALL {
            assert_eq!(Figure::from_name(figure.name()), Some(figure));
        }
    }

    #[test]
    fn proc_readers_work_here() {
        assert!(rss_bytes().unwrap() > 0);
        assert!(cpu_time().is_ok());
    }
}
