//! [`TestServer`]: a real RivetKit 2.3.19 server for integration tests.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::{http, procs};

/// How long [`TestServer::start`] / [`TestServer::restart`] wait for the first successful action.
const READY_TIMEOUT: Duration = Duration::from_secs(90);
/// How long node gets to drain and take the engine down after SIGTERM before it is SIGKILLed.
const NODE_STOP_GRACE: Duration = Duration::from_secs(8);
/// How long the engine gets after SIGTERM before it is SIGKILLed.
const ENGINE_STOP_GRACE: Duration = Duration::from_secs(5);
/// Actor/key used for readiness polling (a regular `counter`).
const READY_KEY: &str = "__ready";
/// Attempts with a fresh port when startup fails fast (port race, foreign engine).
const START_ATTEMPTS: usize = 3;

/// Ports (gateway P; P+1 and P+10 are implied) handed out to live servers of this process.
static RESERVED_PORTS: Mutex<Vec<u16>> = Mutex::new(Vec::new());
/// Serialises `npm install`.
static NPM_LOCK: Mutex<()> = Mutex::new(());

/// A real RivetKit 2.3.19 server: `node tests/server/server.mjs` plus the `rivet-engine` it
/// spawns, isolated on its own port triple (gateway `P`, api-peer `P+1`, metrics `P+10`) and a
/// fresh data dir under the system temp dir.
///
/// Clients talk to [`endpoint`](Self::endpoint) (the engine gateway). Dropping the server stops
/// node and the engine and removes the data dir (set `RIVET_TEST_KEEP_DATA=1` to keep it, e.g.
/// to read `server.log`).
///
/// Orphan safety: node and a small guard process (`guard.mjs`, alive for the whole life of the
/// server, across restarts and runtime-down phases) get `RIVET_TEST_PARENT_PID=<this process>`.
/// If this process disappears (SIGKILL, `std::process::exit`, never-dropped statics such as
/// [`shared`](Self::shared)) they kill node and the engine (found by runtime.json and by
/// scanning `/proc` for `RIVETKIT_STORAGE_PATH=<data_dir>` in the environment) and remove the
/// data dir, typically within 0.5 s.
#[derive(Debug)]
pub struct TestServer {
    port: u16,
    data_dir: PathBuf,
    /// The node runtime (process-group leader), while running.
    node: Option<Child>,
    /// `guard.mjs` (own process group), for the whole life of the server: if this process dies
    /// it kills everything started for `data_dir` and removes it.
    guard: Option<Child>,
    /// Engine pid seen at the last successful start (the engine may have exited since).
    last_engine_pid: Option<u32>,
    startup: Duration,
    stopped: bool,
    keep_data: bool,
}

/// Why one boot attempt failed.
enum BootError {
    /// Worth retrying on another port (node died early, a foreign engine owns the port, ...).
    Retry(String),
    /// Not worth retrying (timeout, missing node, ...).
    Fatal(String),
}

impl TestServer {
    /// Start a fresh server and wait until an action answers (bounded: 90 s).
    ///
    /// Runs `npm install` (as locked) in `tests/server` first if `node_modules/rivetkit` is missing. Picks a port
    /// `P` with `P`, `P+1` and `P+10` all free on 127.0.0.1, preferring ports below the kernel's
    /// ephemeral range so that outgoing connections cannot grab them (also during
    /// [`restart`](Self::restart)). On failure the error includes the tail of the server log.
    pub fn start() -> Result<TestServer, String> {
        ensure_npm_installed()?;
        let keep_data = std::env::var_os("RIVET_TEST_KEEP_DATA").is_some_and(|v| v != "0");
        let mut last_err = String::new();
        for attempt in 1..=START_ATTEMPTS {
            let port = reserve_port()?;
            let data_dir = match new_data_dir() {
                Ok(d) => d,
                Err(e) => {
                    release_port(port);
                    return Err(e);
                }
            };
            let mut server = TestServer {
                port,
                data_dir,
                node: None,
                guard: None,
                last_engine_pid: None,
                startup: Duration::ZERO,
                stopped: false,
                keep_data,
            };
            server.spawn_guard()?;
            match server.boot() {
                Ok(()) => return Ok(server),
                Err(BootError::Fatal(e)) => return Err(e),
                Err(BootError::Retry(e)) => {
                    last_err = format!("attempt {attempt}/{START_ATTEMPTS} on port {port}: {e}");
                    // `server` drops here: stops whatever started, removes the dir, frees the port.
                }
            }
        }
        Err(last_err)
    }

    /// The server shared by every test of this test binary, started on first use.
    ///
    /// Concurrent first calls are safe (one start, the others wait). Statics are never dropped,
    /// so cleanup at process exit is done by the watchdogs in `server.mjs` and `guard.mjs`
    /// (node and engine stopped, data dir removed, within about 0.5 s of the test binary
    /// exiting). Do not use it for tests that stop or restart the server: start your own.
    ///
    /// # Panics
    /// If the server cannot be started (every later call panics with the same message, without
    /// retrying the 90 s startup).
    pub fn shared() -> &'static TestServer {
        static SHARED: OnceLock<Result<TestServer, String>> = OnceLock::new();
        match SHARED.get_or_init(TestServer::start) {
            Ok(s) => s,
            Err(e) => panic!("shared RivetKit test server failed to start: {e}"),
        }
    }

    /// Client endpoint (the engine gateway): `http://127.0.0.1:P`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Gateway port `P` (api-peer is `P+1`, metrics `P+10`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port` of the gateway, e.g. to hand to [`TcpProxy::start`](crate::TcpProxy::start).
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The server's data dir (`RIVETKIT_STORAGE_PATH`); `server.log` (node stdout+stderr) lives
    /// here, engine logs under `.rivetkit/var/logs/rivet-engine/`.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Path of the node log (`<data_dir>/server.log`).
    pub fn log_path(&self) -> PathBuf {
        self.data_dir.join("server.log")
    }

    /// The engine pid from `<data_dir>/.rivetkit/var/engine/runtime.json` (present once the
    /// engine started; still readable after it stopped).
    pub fn engine_pid(&self) -> Option<u32> {
        procs::engine_pid_in(&self.data_dir).or(self.last_engine_pid)
    }

    /// The node (actor runtime) pid, while it is running.
    pub fn node_pid(&self) -> Option<u32> {
        self.node.as_ref().map(Child::id)
    }

    /// Time from spawning node to the first successful action, for the latest (re)start.
    pub fn startup_duration(&self) -> Duration {
        self.startup
    }

    /// True if the node runtime is running (and not a zombie).
    pub fn runtime_running(&self) -> bool {
        self.node_pid().is_some_and(procs::alive)
    }

    /// True if the engine from `runtime.json` is running.
    pub fn engine_running(&self) -> bool {
        self.engine_pid()
            .is_some_and(|p| procs::alive_with_cmd(p, "rivet-engine"))
    }

    /// Last `lines` lines of `server.log` and of the newest engine stderr log (for diagnostics).
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.data_dir, lines)
    }

    /// Convenience: call `actor[key].name(args...)` over HTTP (JSON encoding, `getOrCreate`) on
    /// this server and return the decoded `output`. See [`http::action`] for the raw response.
    pub fn action(
        &self,
        actor: &str,
        key: &str,
        name: &str,
        args: serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        http::action_ok(&self.endpoint(), actor, key, name, &args)
    }

    /// Stop node and the engine (SIGTERM, bounded wait, SIGKILL) and remove the data dir.
    /// Idempotent; also done on drop. The server cannot be restarted afterwards.
    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        self.stop_processes();
        if !self.keep_data {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
        // Last, so that the guard covers every step above.
        self.stop_guard();
        release_port(self.port);
    }

    /// Full server restart: stop node and the engine, then start both again on the SAME port and
    /// data dir (actor state persists) and wait for readiness again (bounded: 90 s).
    ///
    /// Clients connected during the restart see their connections drop (the engine holds them).
    pub fn restart(&mut self) -> Result<(), String> {
        self.ensure_not_stopped()?;
        self.stop_processes();
        self.boot().map_err(|e| match e {
            BootError::Retry(e) | BootError::Fatal(e) => e,
        })
    }

    /// Stop only the actor runtime (node, gracefully drained) and leave the engine running.
    ///
    /// Observed 2.3.19 behaviour in that state: existing client WebSockets stay open (the gateway
    /// holds them), new connections get 101 then close 1011 `guard.actor_wake_retries_exceeded`,
    /// and HTTP actions get 503 with that code. Bring it back with
    /// [`start_runtime`](Self::start_runtime).
    pub fn stop_runtime_only(&mut self) -> Result<(), String> {
        self.ensure_not_stopped()?;
        self.stop_node(false);
        Ok(())
    }

    /// Like [`stop_runtime_only`](Self::stop_runtime_only) but abrupt: SIGKILL node's process
    /// group (a runtime crash). The engine keeps running.
    pub fn kill_runtime(&mut self) -> Result<(), String> {
        self.ensure_not_stopped()?;
        if let Some(mut child) = self.node.take() {
            let pid = child.id();
            procs::signal(-i64::from(pid), "KILL");
            procs::wait_until(Duration::from_secs(5), || !procs::alive(pid));
            let _ = child.wait();
        }
        Ok(())
    }

    /// Start the actor runtime again after [`stop_runtime_only`](Self::stop_runtime_only) /
    /// [`kill_runtime`](Self::kill_runtime); it reuses the running engine. Waits for readiness.
    /// If the engine is gone as well, this starts a new one (same port and data dir).
    pub fn start_runtime(&mut self) -> Result<(), String> {
        self.ensure_not_stopped()?;
        if self.runtime_running() {
            return Ok(());
        }
        self.boot().map_err(|e| match e {
            BootError::Retry(e) | BootError::Fatal(e) => e,
        })
    }

    fn ensure_not_stopped(&self) -> Result<(), String> {
        if self.stopped {
            Err("TestServer was stopped".to_string())
        } else {
            Ok(())
        }
    }

    /// Spawn node and wait for readiness; on error everything this attempt started is stopped.
    fn boot(&mut self) -> Result<(), BootError> {
        let t0 = Instant::now();
        let result = self.spawn_node().and_then(|()| self.wait_ready(t0));
        match result {
            Ok(()) => {
                self.startup = t0.elapsed();
                Ok(())
            }
            Err(e) => {
                self.stop_processes();
                Err(e)
            }
        }
    }

    fn spawn_node(&mut self) -> Result<(), BootError> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(|e| BootError::Fatal(format!("cannot open server log: {e}")))?;
        let log_err = log
            .try_clone()
            .map_err(|e| BootError::Fatal(format!("cannot clone log handle: {e}")))?;
        let mut cmd = Command::new(node_bin());
        cmd.arg("server.mjs");
        self.configure(&mut cmd);
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| {
                BootError::Fatal(format!(
                    "cannot spawn `{} server.mjs` in {}: {e}",
                    node_bin(),
                    server_dir().display()
                ))
            })?;
        self.node = Some(child);
        Ok(())
    }

    /// Shared environment, working dir and process group for node and the guard.
    fn configure(&self, cmd: &mut Command) {
        cmd.current_dir(server_dir());
        // Don't let a developer's RIVET_* / RIVETKIT_* settings leak in (endpoint, token, runtime
        // mode...), except logging knobs and `RIVET_SUITE_ID`, the mark by which
        // `scripts/test.sh` finds the engines its own run started.
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            let setting = k.starts_with("RIVET") && !k.contains("LOG") && k != "RIVET_SUITE_ID";
            if setting || k == "NODE_ENV" {
                cmd.env_remove(k.as_ref());
            }
        }
        cmd.env("RIVET_RUN_ENGINE_PORT", self.port.to_string())
            .env("RIVET_RUN_ENGINE_HOST", "127.0.0.1")
            .env("RIVETKIT_STORAGE_PATH", &self.data_dir)
            .env("RIVET_RUN_SERVICES", "0")
            .env("RIVET_TEST_PARENT_PID", std::process::id().to_string())
            .env(
                "RIVET_TEST_REMOVE_DATA_ON_ORPHAN",
                if self.keep_data { "0" } else { "1" },
            )
            .process_group(0);
    }

    fn wait_ready(&mut self, t0: Instant) -> Result<(), BootError> {
        let deadline = t0 + READY_TIMEOUT;
        let endpoint = self.endpoint();
        let mut last = String::from("no attempt yet");
        loop {
            if let Some(child) = self.node.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.node = None;
                    return Err(BootError::Retry(format!(
                        "node exited ({status}) before the server was ready; last probe: {last}\n{}",
                        self.log_tail(40)
                    )));
                }
            }
            match http::action(
                &endpoint,
                "counter",
                READY_KEY,
                "getCount",
                &serde_json::json!([]),
                Duration::from_secs(3),
            ) {
                Ok(r) if r.status == 200 => break,
                Ok(r) => last = format!("HTTP {}: {}", r.status, r.text()),
                Err(e) => last = e.to_string(),
            }
            if Instant::now() >= deadline {
                return Err(BootError::Fatal(format!(
                    "server on port {} not ready after {:?}; last probe: {last}\n{}",
                    self.port,
                    READY_TIMEOUT,
                    self.log_tail(40)
                )));
            }
            sleep(Duration::from_millis(50));
        }

        // The gateway answered; make sure it is OUR engine. rivetkit reuses any healthy engine
        // already listening on the port (even one with another data dir), in which case no
        // runtime.json appears in our data dir.
        let port_suffix = format!(":{}", self.port);
        let ours = procs::wait_until(Duration::from_secs(3), || {
            procs::engine_runtime_json(&self.data_dir).is_some_and(|rt| {
                let endpoint_ok = rt
                    .get("endpoint")
                    .and_then(|e| e.as_str())
                    .is_some_and(|e| e.trim_end_matches('/').ends_with(&port_suffix));
                let pid_ok = rt
                    .get("pid")
                    .and_then(|p| p.as_u64())
                    .and_then(|p| u32::try_from(p).ok())
                    .is_some_and(|p| procs::alive_with_cmd(p, "rivet-engine"));
                endpoint_ok && pid_ok
            })
        });
        if !ours {
            return Err(BootError::Retry(format!(
                "port {} answered, but no live engine of ours is recorded in {}/.rivetkit/var/engine/runtime.json (foreign engine on the port?)",
                self.port,
                self.data_dir.display()
            )));
        }
        self.last_engine_pid = procs::engine_pid_in(&self.data_dir);
        Ok(())
    }

    /// Stop node (and, through it and directly, the engine); keep the data dir and the guard.
    fn stop_processes(&mut self) {
        let recorded = self.engine_pid();
        self.stop_node(true);
        // server.mjs normally took the engine down already; make sure, including an engine that
        // was still starting (not in runtime.json yet).
        let mut engines = procs::scan_engines(&self.data_dir);
        if let Some(pid) = recorded {
            if !engines.contains(&pid) {
                engines.push(pid);
            }
        }
        for pid in engines {
            procs::stop_engine(pid, ENGINE_STOP_GRACE);
        }
    }

    /// Stop node. `with_engine`: SIGTERM (server.mjs also stops the engine); otherwise SIGUSR2
    /// (server.mjs leaves the engine running). SIGKILL for the whole group after the grace period.
    fn stop_node(&mut self, with_engine: bool) {
        let Some(mut child) = self.node.take() else {
            return;
        };
        let pid = child.id();
        if procs::alive(pid) {
            if with_engine {
                procs::signal(-i64::from(pid), "TERM");
            } else {
                procs::signal(i64::from(pid), "USR2");
            }
            procs::wait_until(NODE_STOP_GRACE, || !procs::alive(pid));
        }
        // Not reaped yet, so the pgid cannot have been reused: safe to sweep the group.
        procs::signal(-i64::from(pid), "KILL");
        let _ = child.wait();
    }

    fn spawn_guard(&mut self) -> Result<(), String> {
        if self.guard.is_some() {
            return Ok(());
        }
        let mut cmd = Command::new(node_bin());
        cmd.arg("guard.mjs");
        self.configure(&mut cmd);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data_dir.join("guard.log"))
            .map_err(|e| format!("cannot open guard log: {e}"))?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot spawn guard.mjs: {e}"))?;
        self.guard = Some(child);
        Ok(())
    }

    fn stop_guard(&mut self) {
        if let Some(mut child) = self.guard.take() {
            let pid = child.id();
            procs::signal(i64::from(pid), "TERM");
            if !procs::wait_until(Duration::from_secs(3), || !procs::alive(pid)) {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `tests/server` (holds package.json, server.mjs, node_modules).
fn server_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../server")
}

/// The node binary (`RIVET_TEST_NODE` or `node` from `PATH`).
fn node_bin() -> String {
    std::env::var("RIVET_TEST_NODE").unwrap_or_else(|_| "node".to_string())
}

fn ensure_npm_installed() -> Result<(), String> {
    let dir = server_dir();
    let marker = dir.join("node_modules/rivetkit/package.json");
    if marker.exists() {
        return Ok(());
    }
    let _guard = NPM_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if marker.exists() {
        return Ok(());
    }
    // `npm install` rather than `npm ci`: the registry reachable here lacks the other platforms'
    // optional packages, so the lockfile cannot list them and `npm ci` calls it out of sync.
    // With a lockfile present, `npm install --no-save` installs exactly the locked versions.
    let out = Command::new("npm")
        .args([
            "install",
            "--no-save",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `npm install` in {}: {e}", dir.display()))?;
    if !out.status.success() || !marker.exists() {
        return Err(format!(
            "`npm install` in {} failed ({}):\n{}\n{}",
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

fn new_data_dir() -> Result<PathBuf, String> {
    let base = std::env::temp_dir();
    for _ in 0..16 {
        let dir = base.join(format!(
            "rivet-test-{}-{:016x}",
            std::process::id(),
            crate::random_u64()
        ));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot create data dir {}: {e}", dir.display())),
        }
    }
    Err("cannot create a unique data dir".to_string())
}

/// The kernel's ephemeral port range (`ip_local_port_range`), default 32768..=60999.
fn ephemeral_range() -> (u16, u16) {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            let mut it = s.split_whitespace().map(|p| p.parse::<u16>().ok());
            Some((it.next()??, it.next()??))
        })
        .unwrap_or((32768, 60999))
}

/// Reserve a gateway port P with P, P+1 and P+10 bindable on 127.0.0.1 and not overlapping any
/// port triple already handed out in this process.
fn reserve_port() -> Result<u16, String> {
    let (eph_lo, _) = ephemeral_range();
    let lo: u16 = 20000;
    let hi: u16 = eph_lo.saturating_sub(11);
    let mut reserved = RESERVED_PORTS.lock().unwrap_or_else(|e| e.into_inner());
    for attempt in 0..400 {
        let p = if hi > lo + 200 && attempt < 300 {
            lo + (crate::random_u64() % u64::from(hi - lo)) as u16
        } else {
            // Fallback: let the OS pick (inside the ephemeral range).
            match TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
                Ok(a) => a.port(),
                Err(_) => continue,
            }
        };
        if p > u16::MAX - 10 {
            continue;
        }
        let triple = [p, p + 1, p + 10];
        let clash = reserved
            .iter()
            .any(|&q| [q, q + 1, q + 10].iter().any(|x| triple.contains(x)));
        if clash {
            continue;
        }
        // Hold all three at once so the check is consistent.
        let held: Result<Vec<TcpListener>, _> = triple
            .iter()
            .map(|&x| TcpListener::bind(("127.0.0.1", x)))
            .collect();
        if held.is_ok() {
            reserved.push(p);
            return Ok(p);
        }
    }
    Err("no free port triple (P, P+1, P+10) found on 127.0.0.1".to_string())
}

fn release_port(port: u16) {
    let mut reserved = RESERVED_PORTS.lock().unwrap_or_else(|e| e.into_inner());
    reserved.retain(|&p| p != port);
}

fn tail_of_file(path: &Path, lines: usize) -> Option<String> {
    let mut f = File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    let start = len.saturating_sub(64 * 1024);
    f.seek(SeekFrom::Start(start)).ok()?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf);
    let all: Vec<&str> = text.lines().collect();
    Some(all[all.len().saturating_sub(lines)..].join("\n"))
}

fn log_tail(data_dir: &Path, lines: usize) -> String {
    let mut out = format!("--- {}/server.log (tail) ---\n", data_dir.display());
    out.push_str(
        &tail_of_file(&data_dir.join("server.log"), lines)
            .unwrap_or_else(|| "(missing)".to_string()),
    );
    let engine_logs = data_dir.join(".rivetkit/var/logs/rivet-engine");
    let newest_stderr = std::fs::read_dir(&engine_logs).ok().and_then(|rd| {
        rd.filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().contains("stderr"))
            })
            .max()
    });
    if let Some(p) = newest_stderr {
        out.push_str(&format!("\n--- {} (tail) ---\n", p.display()));
        out.push_str(&tail_of_file(&p, lines / 2).unwrap_or_default());
    }
    out
}
