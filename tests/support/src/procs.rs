//! Process helpers: liveness via `/proc`, signals via the `kill` utility (std only, no `unsafe`).

use std::path::Path;
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// True if `/proc/<pid>` exists and the process is not a zombie (state `Z`/`X`).
pub(crate) fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // Format: "pid (comm) S ...", comm may contain spaces/parens: take the last ')'.
            let state = stat
                .rfind(')')
                .and_then(|i| stat[i + 1..].split_whitespace().next())
                .unwrap_or("");
            !matches!(state, "Z" | "X" | "x")
        }
        Err(_) => false,
    }
}

/// True if `pid` is alive and its command line contains `needle` (guards against pid reuse).
pub(crate) fn alive_with_cmd(pid: u32, needle: &str) -> bool {
    if !alive(pid) {
        return false;
    }
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).contains(needle))
        .unwrap_or(false)
}

/// Send `sig` (e.g. `"TERM"`, `"KILL"`, `"USR2"`) to `target` (a pid, or `-pgid` for a group).
/// Errors (e.g. no such process) are ignored: callers check liveness themselves.
pub(crate) fn signal(target: i64, sig: &str) {
    let status = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg("--")
        .arg(target.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if status.is_err() {
        // No `kill` binary: fall back to the shell builtin.
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!("kill -{sig} -- {target}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Poll `cond` every 20 ms until it is true or `timeout` passes. Returns the final value.
pub(crate) fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        sleep(Duration::from_millis(20));
    }
}

/// Read the engine pid from `<data_dir>/.rivetkit/var/engine/runtime.json`.
pub(crate) fn engine_pid_in(data_dir: &Path) -> Option<u32> {
    let v = engine_runtime_json(data_dir)?;
    v.get("pid")?.as_u64().and_then(|p| u32::try_from(p).ok())
}

/// The parsed `runtime.json` of the engine started for `data_dir`, if any.
pub(crate) fn engine_runtime_json(data_dir: &Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(data_dir.join(".rivetkit/var/engine/runtime.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// Stop the engine `pid` (if it is still a `rivet-engine`): SIGTERM, wait up to `grace`, SIGKILL,
/// wait up to 2 s. Returns true if it is gone.
pub(crate) fn stop_engine(pid: u32, grace: Duration) -> bool {
    const NEEDLE: &str = "rivet-engine";
    if !alive_with_cmd(pid, NEEDLE) {
        return true;
    }
    signal(i64::from(pid), "TERM");
    if wait_until(grace, || !alive_with_cmd(pid, NEEDLE)) {
        return true;
    }
    signal(i64::from(pid), "KILL");
    wait_until(Duration::from_secs(2), || !alive_with_cmd(pid, NEEDLE))
}

/// Live `rivet-engine` processes started for `data_dir`: found by scanning `/proc` for processes
/// whose command line mentions `rivet-engine` and whose environment contains
/// `RIVETKIT_STORAGE_PATH=<data_dir>` (the engine inherits node's environment). Catches an engine
/// that was spawned but has not written `runtime.json` yet.
pub(crate) fn scan_engines(data_dir: &Path) -> Vec<u32> {
    let mut needle = b"RIVETKIT_STORAGE_PATH=".to_vec();
    needle.extend_from_slice(data_dir.as_os_str().as_encoded_bytes());
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| {
            alive_with_cmd(pid, "rivet-engine")
                && std::fs::read(format!("/proc/{pid}/environ"))
                    .is_ok_and(|env| env.split(|&b| b == 0).any(|kv| kv == needle.as_slice()))
        })
        .collect()
}
