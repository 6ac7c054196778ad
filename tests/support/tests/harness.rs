//! Self-tests of the harness against the real RivetKit 2.3.19 server.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rivet_test_support::{http, unique_key, TcpProxy, TestServer};
use serde_json::json;

fn proc_exists(pid: u32) -> bool {
    // A zombie still has /proc/<pid>; treat it as gone (it is not running anything).
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat[stat.rfind(')').unwrap() + 1..]
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string();
            state != "Z" && state != "X"
        }
        Err(_) => false,
    }
}

fn wait_gone(pid: u32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if !proc_exists(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    !proc_exists(pid)
}

/// Open a persistent RivetKit WebSocket (`/connect`, JSON encoding) by hand over `addr` and
/// return the stream after the 101 (std only; enough to hold a long-lived connection).
fn open_ws(addr: &str, actor: &str, key: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let path = http::gateway_path(actor, key, "/connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: rivet, rivet_encoding.json\r\n\r\n"
    )
    .unwrap();
    let mut reader = BufReader::new(s.try_clone().unwrap());
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    assert!(status.contains(" 101 "), "expected 101, got {status:?}");
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
    }
    // The first frame is Init (text, JSON); make sure we got at least one byte of it.
    let mut b = [0u8; 1];
    reader.read_exact(&mut b).unwrap();
    assert_eq!(
        b[0] & 0x0f,
        0x1,
        "first frame should be a text frame (Init)"
    );
    s
}

#[test]
fn unique_keys_differ() {
    let a = unique_key("k");
    let b = unique_key("k");
    assert_ne!(a, b);
    assert!(a.starts_with("k-"));
    assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
}

#[test]
fn shared_server_answers_actions() {
    let s = TestServer::shared();
    eprintln!(
        "shared server: {} data={} startup={:?} engine_pid={:?}",
        s.endpoint(),
        s.data_dir().display(),
        s.startup_duration(),
        s.engine_pid()
    );
    let key = unique_key("count");
    assert_eq!(
        s.action("counter", &key, "increment", json!([5])).unwrap(),
        json!(5)
    );
    assert_eq!(
        s.action("counter", &key, "increment", json!([2])).unwrap(),
        json!(7)
    );
    assert_eq!(
        s.action("counter", &key, "getCount", json!([])).unwrap(),
        json!(7)
    );
    assert_eq!(
        s.action("counter", &key, "echo", json!([1, "a", {"b": null}]))
            .unwrap(),
        json!([1, "a", {"b": null}])
    );
    assert_eq!(
        s.action(
            "counter",
            &key,
            "types",
            json!([1, "s", null, [1], {"a": 1}, ["$BigInt", "5"]])
        )
        .unwrap(),
        json!(["number", "string", "null", "array", "object", "bigint"])
    );
    // A UserError surfaces as HTTP 500 with group/code/metadata.
    let r = http::action(
        &s.endpoint(),
        "counter",
        &key,
        "boom",
        &json!([]),
        Duration::from_secs(30),
    )
    .unwrap();
    assert_eq!(r.status, 500);
    let body = r.json().unwrap();
    assert_eq!(body["group"], "user");
    assert_eq!(body["code"], "boom_code");
    assert_eq!(body["metadata"], json!({"a": 1, "b": "two"}));
    // Other actors are registered.
    assert_eq!(
        s.action("sleepy", &key, "stats", json!([])).unwrap()["wakes"],
        json!(1)
    );
    let rk = unique_key("room");
    let r = http::request(
        &s.endpoint(),
        "POST",
        &http::gateway_path("chatRoom", &rk, "/action/getHistory"),
        &[
            ("x-rivet-encoding", "json"),
            ("x-rivet-conn-params", r#"{"token":"secret"}"#),
        ],
        br#"{"args":[]}"#,
        Duration::from_secs(30),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    // Raw onRequest with the custom header.
    let r = http::request(
        &s.endpoint(),
        "POST",
        &http::gateway_path("counter", &key, "/request/some/path"),
        &[],
        b"payload",
        Duration::from_secs(30),
    )
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-from-actor"), Some("yes"));
    assert_eq!(r.json().unwrap()["body"], "payload");
    // Queue round trip.
    let wk = unique_key("worker");
    let send = || {
        http::request(
            &s.endpoint(),
            "POST",
            &http::gateway_path("worker", &wk, "/queue/jobs"),
            &[("x-rivet-encoding", "json")],
            br#"{"body":{"n":2},"name":"jobs","wait":true,"timeout":10000}"#,
            Duration::from_secs(30),
        )
        .unwrap()
    };
    let mut r = send();
    if r.status == 503 || r.status == 504 {
        // Transient gateway errors (e.g. the 15 s pegboard.route_resolve_query_timeout flake).
        eprintln!(
            "queue send: transient HTTP {}: {}; retrying once",
            r.status,
            r.text()
        );
        r = send();
    }
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json().unwrap(),
        json!({"status": "completed", "response": {"done": {"n": 2}}})
    );
}

#[test]
fn two_servers_at_once_then_stop_leaves_nothing() {
    let t = std::thread::spawn(TestServer::start);
    let mut a = TestServer::start().unwrap();
    let mut b = t.join().unwrap().unwrap();
    eprintln!(
        "startup a={:?} (port {}), b={:?} (port {})",
        a.startup_duration(),
        a.port(),
        b.startup_duration(),
        b.port()
    );
    assert_ne!(a.port(), b.port());
    assert_ne!(a.data_dir(), b.data_dir());
    let key = unique_key("two");
    assert_eq!(
        a.action("counter", &key, "increment", json!([1])).unwrap(),
        json!(1)
    );
    assert_eq!(
        b.action("counter", &key, "increment", json!([10])).unwrap(),
        json!(10)
    );
    // Separate engines, separate state.
    assert_eq!(
        a.action("counter", &key, "getCount", json!([])).unwrap(),
        json!(1)
    );
    assert_ne!(a.engine_pid(), b.engine_pid());

    for s in [&mut a, &mut b] {
        let node = s.node_pid().unwrap();
        let engine = s.engine_pid().unwrap();
        let dir = s.data_dir().to_path_buf();
        assert!(proc_exists(node) && proc_exists(engine));
        let t0 = Instant::now();
        s.stop();
        eprintln!("stop took {:?}", t0.elapsed());
        assert!(!proc_exists(node), "node {node} still alive after stop()");
        assert!(
            !proc_exists(engine),
            "engine {engine} still alive after stop()"
        );
        assert!(!dir.exists(), "data dir {} not removed", dir.display());
    }
}

#[test]
fn restart_keeps_port_and_state() {
    let mut s = TestServer::start().unwrap();
    let port = s.port();
    let key = unique_key("restart");
    assert_eq!(
        s.action("counter", &key, "increment", json!([3])).unwrap(),
        json!(3)
    );
    let (node1, engine1) = (s.node_pid().unwrap(), s.engine_pid().unwrap());
    let t0 = Instant::now();
    s.restart().unwrap();
    eprintln!(
        "restart took {:?} (startup part {:?})",
        t0.elapsed(),
        s.startup_duration()
    );
    assert_eq!(s.port(), port);
    assert!(!proc_exists(node1) && !proc_exists(engine1));
    assert_ne!(s.engine_pid().unwrap(), engine1);
    assert_eq!(
        s.action("counter", &key, "getCount", json!([])).unwrap(),
        json!(3)
    );

    // Runtime-only stop: the engine stays up, actions fail, then come back.
    let engine2 = s.engine_pid().unwrap();
    s.stop_runtime_only().unwrap();
    assert!(proc_exists(engine2));
    assert!(!s.runtime_running());
    let r = http::action(
        &s.endpoint(),
        "counter",
        &key,
        "getCount",
        &json!([]),
        Duration::from_secs(30),
    )
    .unwrap();
    eprintln!("while runtime down: HTTP {} {}", r.status, r.text());
    assert_ne!(r.status, 200);
    let t0 = Instant::now();
    s.start_runtime().unwrap();
    eprintln!("start_runtime took {:?}", t0.elapsed());
    assert_eq!(
        s.engine_pid().unwrap(),
        engine2,
        "engine should have been reused"
    );
    assert_eq!(
        s.action("counter", &key, "getCount", json!([])).unwrap(),
        json!(3)
    );

    // Abrupt runtime crash, then back.
    s.kill_runtime().unwrap();
    assert!(proc_exists(engine2));
    s.start_runtime().unwrap();
    assert_eq!(
        s.action("counter", &key, "getCount", json!([])).unwrap(),
        json!(3)
    );

    let node3 = s.node_pid().unwrap();
    s.stop();
    assert!(!proc_exists(node3) && !proc_exists(engine2));
}

#[test]
fn proxy_forwards_and_drop_all_kills_long_lived_connections() {
    let s = TestServer::shared();
    let proxy = TcpProxy::start(s.addr());
    let key = unique_key("proxy");
    assert_eq!(
        http::action_ok(&proxy.endpoint(), "counter", &key, "increment", &json!([4])).unwrap(),
        json!(4)
    );
    assert!(proxy.accepted_count() >= 1);

    let mut ws = open_ws(&proxy.addr().to_string(), "counter", &key);
    // The server sees the WebSocket (plus the HTTP action's own ephemeral connection).
    assert_eq!(
        s.action("counter", &key, "connCount", json!([])).unwrap(),
        json!(2)
    );
    assert_eq!(proxy.active_count(), 1);

    let t0 = Instant::now();
    assert_eq!(proxy.drop_all(), 1);
    assert_eq!(proxy.active_count(), 0);
    // The client side sees a reset (or EOF) promptly, not a timeout.
    let mut buf = [0u8; 4096];
    let err = loop {
        match ws.read(&mut buf) {
            Ok(0) => break None,
            Ok(_) => continue, // rest of the Init frame
            Err(e) => break Some(e.kind()),
        }
    };
    eprintln!("client saw {:?} after {:?}", err, t0.elapsed());
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert!(
        matches!(err, None | Some(ErrorKind::ConnectionReset)),
        "{err:?}"
    );
    // And so does the server: the connection goes away.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n = s.action("counter", &key, "connCount", json!([])).unwrap();
        if n == json!(1) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "server still counts {n} connections"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The proxy keeps working for new connections.
    assert_eq!(
        http::action_ok(&proxy.endpoint(), "counter", &key, "getCount", &json!([])).unwrap(),
        json!(4)
    );
}

#[test]
fn proxy_refuse_and_blackhole() {
    let s = TestServer::shared();
    let proxy = TcpProxy::start(s.addr());
    let key = unique_key("refuse");

    proxy.set_refuse(true);
    let r = http::action(
        &proxy.endpoint(),
        "counter",
        &key,
        "getCount",
        &json!([]),
        Duration::from_secs(5),
    );
    assert!(r.is_err(), "refused connection should fail, got {r:?}");
    assert_eq!(proxy.refused_count(), 1);
    assert_eq!(proxy.accepted_count(), 1);
    proxy.set_refuse(false);
    assert_eq!(
        http::action_ok(&proxy.endpoint(), "counter", &key, "getCount", &json!([])).unwrap(),
        json!(0)
    );

    proxy.set_blackhole(true);
    let t0 = Instant::now();
    let r = http::action(
        &proxy.endpoint(),
        "counter",
        &key,
        "getCount",
        &json!([]),
        Duration::from_millis(700),
    );
    assert!(r.is_err(), "blackholed request should time out, got {r:?}");
    assert!(t0.elapsed() >= Duration::from_millis(600));
    proxy.set_blackhole(false);
    assert_eq!(
        http::action_ok(&proxy.endpoint(), "counter", &key, "getCount", &json!([])).unwrap(),
        json!(0)
    );
}

#[tokio::test]
async fn proxy_works_inside_a_current_thread_runtime() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = TestServer::shared();
    let proxy = TcpProxy::start(s.addr());
    let mut c = tokio::net::TcpStream::connect(proxy.addr()).await.unwrap();
    c.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    c.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    drop(proxy); // joins the proxy thread from inside a runtime: must not panic or hang
}

/// Helper run in a child process by `sigkilled_test_process_leaves_nothing`.
#[test]
#[ignore = "helper: only runs as a child of sigkilled_test_process_leaves_nothing"]
fn child_holds_a_server() {
    if std::env::var_os("RIVET_TEST_CHILD").is_none() {
        return;
    }
    let s = TestServer::start().unwrap();
    let _shared = TestServer::shared(); // a never-dropped static too
    println!(
        "PIDS {} {} {} {} {}",
        s.node_pid().unwrap(),
        s.engine_pid().unwrap(),
        _shared.node_pid().unwrap(),
        _shared.engine_pid().unwrap(),
        s.data_dir().display()
    );
    println!("SHARED_DIR {}", _shared.data_dir().display());
    std::io::stdout().flush().unwrap();
    // Live until the parent test goes away (it SIGKILLs us; if it dies first, don't linger).
    let parent = std::os::unix::process::parent_id();
    let deadline = Instant::now() + Duration::from_secs(120);
    while std::os::unix::process::parent_id() == parent && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    // Leave without running destructors, like a SIGKILLed process.
    std::process::exit(0);
}

#[test]
fn sigkilled_test_process_leaves_nothing() {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "child_holds_a_server",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("RIVET_TEST_CHILD", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Make sure the child dies even if an assertion below fails.
    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stdout = child.stdout.take().unwrap();
    let mut child = KillOnDrop(child);
    let mut lines = BufReader::new(stdout).lines();
    let mut pids: Vec<u32> = Vec::new();
    let mut dirs: Vec<String> = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        // libtest prints "test child_holds_a_server ... " without a newline first.
        if let Some(rest) = line.find("PIDS ").map(|i| &line[i + 5..]) {
            let parts: Vec<&str> = rest.split(' ').collect();
            pids = parts[..4].iter().map(|p| p.parse().unwrap()).collect();
            dirs.push(parts[4].to_string());
        }
        if let Some(rest) = line.find("SHARED_DIR ").map(|i| &line[i + 11..]) {
            dirs.push(rest.to_string());
            break;
        }
    }
    assert_eq!(pids.len(), 4, "child did not report its pids");
    for &p in &pids {
        assert!(proc_exists(p));
    }
    child.0.kill().unwrap(); // SIGKILL: no destructors run
    child.0.wait().unwrap();
    let t0 = Instant::now();
    for &p in &pids {
        assert!(
            wait_gone(p, Duration::from_secs(15)),
            "pid {p} survived the SIGKILLed test process"
        );
    }
    eprintln!("watchdog cleaned up node+engine x2 in {:?}", t0.elapsed());
    for d in &dirs {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Path::new(d).exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(!Path::new(d).exists(), "data dir {d} left behind");
    }
}
