//! Test harness for `rivet-rs`.
//!
//! * [`TestServer`]: a real RivetKit 2.3.19 server (`node tests/server/server.mjs`, which spawns a
//!   detached `rivet-engine`) on an isolated port triple and a fresh data dir, with a bounded
//!   readiness wait, a clean stop (node *and* engine), restart on the same port and data dir, and
//!   a per-test-binary shared instance ([`TestServer::shared`]).
//! * [`TcpProxy`]: a loopback TCP proxy for fault injection (drop every connection, refuse new
//!   ones, stall traffic), running on its own thread and tokio runtime so it works from any test.
//! * [`hostile`]: an in-process gateway that speaks just enough of the protocol to misbehave
//!   on purpose (accept then close, `Init` then close or reset, stop reading, oversized or
//!   malformed frames, redirects, slow or huge answers), for the faults the real server shows
//!   only now and then.
//! * [`tls_proxy`]: a TLS-terminating proxy with a throwaway CA that records every request
//!   head it forwards (remote-deployment tests: `https`/`wss`, namespace and token).
//! * [`prefix_proxy`]: a plain-HTTP proxy serving the real server under a path prefix
//!   (`http://127.0.0.1:<port>/api/rivet`), answering 404 to any request without it.
//! * [`http`]: a tiny blocking HTTP/1.1 client for readiness checks and for tests that want to
//!   poke the gateway without going through the client under test.
//! * [`unique_key`]: collision-free actor keys.
//!
//! Orphan safety: `server.mjs` and a per-server `guard.mjs` watch the test process
//! (`RIVET_TEST_PARENT_PID`) and take node and the engine down (and remove the data dir) when it
//! disappears, so even a SIGKILLed test binary (or the never-dropped [`TestServer::shared`]
//! static) leaves no `rivet-engine` behind.

mod background;
pub mod hostile;
pub mod http;
pub mod prefix_proxy;
mod procs;
mod proxy;
pub mod scenarios;
mod server;
pub mod tls_proxy;

pub use proxy::TcpProxy;
pub use server::TestServer;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A key that is unique within this process and, with overwhelming probability, across
/// processes and runs: `"{prefix}-{counter}-{pid}{time}"` (lowercase hex, `[a-z0-9-]` only, so it
/// is safe in `rvt-key` without escaping, as long as `prefix` is).
pub fn unique_key(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    format!(
        "{prefix}-{n}-{:x}{:x}",
        std::process::id(),
        nanos & 0xffff_ffff_ffff
    )
}

/// A random `u64` from std's per-process randomly seeded hasher (no extra dependency).
pub(crate) fn random_u64() -> u64 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    static SALT: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(SALT.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}
