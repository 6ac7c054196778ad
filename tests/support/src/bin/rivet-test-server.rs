//! `rivet-test-server`: a real RivetKit 2.3.19 server for tests that cannot start one
//! themselves (the wasm32 suite in headless Chromium).
//!
//! Starts a [`TestServer`], a [`TcpProxy`] in front of it and a tiny control endpoint, prints
//!
//! ```text
//! RIVET_TEST_ENDPOINT=http://127.0.0.1:P          the gateway
//! RIVET_TEST_PROXY_ENDPOINT=http://127.0.0.1:Q    the gateway through the fault proxy
//! RIVET_TEST_CONTROL=http://127.0.0.1:C           GET /drop, /refuse/{on,off}, /blackhole/{on,off}, /stats
//! RIVET_TEST_HOSTILE_ENDPOINT=http://127.0.0.1:H  the scenario gateway (rivet_test_support::scenarios)
//! RIVET_TEST_READY=1
//! ```
//!
//! on stdout (shell-sourceable), and stays up until its standard input closes; then it stops
//! node and the engine and removes the data dir. If it is killed instead, the server's
//! parent-pid watchdogs take node and the engine down within about a second.
//!
//! The control endpoint answers every origin (`access-control-allow-origin: *`), so a test
//! page served from another port can drive the proxy with a plain `fetch`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rivet_test_support::scenarios::scenario_gateway;
use rivet_test_support::{TcpProxy, TestServer};

fn main() {
    if let Err(err) = run() {
        eprintln!("rivet-test-server: {err}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let mut server = TestServer::start()?;
    let proxy = Arc::new(
        TcpProxy::try_start(server.addr()).map_err(|e| format!("starting the proxy: {e}"))?,
    );
    let control = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("control bind: {e}"))?;
    let control_addr = control
        .local_addr()
        .map_err(|e| format!("control address: {e}"))?;
    {
        let proxy = proxy.clone();
        std::thread::Builder::new()
            .name("control".into())
            .spawn(move || serve_control(&control, &proxy))
            .map_err(|e| format!("control thread: {e}"))?;
    }

    let hostile = scenario_gateway();

    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "RIVET_TEST_ENDPOINT={}", server.endpoint());
    let _ = writeln!(out, "RIVET_TEST_PROXY_ENDPOINT={}", proxy.endpoint());
    let _ = writeln!(out, "RIVET_TEST_CONTROL=http://{control_addr}");
    let _ = writeln!(out, "RIVET_TEST_HOSTILE_ENDPOINT={}", hostile.endpoint());
    let _ = writeln!(out, "RIVET_TEST_READY=1");
    let _ = out.flush();
    drop(out);
    eprintln!(
        "rivet-test-server: up ({} in {:?}, data in {}); close stdin to stop",
        server.endpoint(),
        server.startup_duration(),
        server.data_dir().display()
    );

    // Block until stdin reaches EOF (or fails).
    let mut sink = Vec::new();
    let _ = std::io::stdin().lock().read_to_end(&mut sink);

    eprintln!("rivet-test-server: stdin closed, stopping");
    drop(hostile);
    drop(proxy);
    server.stop();
    Ok(())
}

/// Answers `GET /drop`, `/refuse/{on,off}`, `/blackhole/{on,off}` and `/stats` (see
/// [`TcpProxy`]), one connection at a time.
fn serve_control(listener: &TcpListener, proxy: &TcpProxy) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = handle(stream, proxy);
    }
}

fn handle(mut stream: TcpStream, proxy: &TcpProxy) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Skip the headers.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("");
    let path = parts.next().unwrap_or("");
    let (status, body) = match (method, path) {
        ("OPTIONS", _) => ("204 No Content", String::new()),
        ("GET", "/drop") => ("200 OK", proxy.drop_all().to_string()),
        ("GET", "/refuse/on") => {
            proxy.set_refuse(true);
            ("200 OK", "refusing".to_owned())
        }
        ("GET", "/refuse/off") => {
            proxy.set_refuse(false);
            ("200 OK", "accepting".to_owned())
        }
        ("GET", "/blackhole/on") => {
            proxy.set_blackhole(true);
            ("200 OK", "stalled".to_owned())
        }
        ("GET", "/blackhole/off") => {
            proxy.set_blackhole(false);
            ("200 OK", "forwarding".to_owned())
        }
        ("GET", "/stats") => (
            "200 OK",
            format!(
                "{{\"active\":{},\"accepted\":{},\"refused\":{}}}",
                proxy.active_count(),
                proxy.accepted_count(),
                proxy.refused_count()
            ),
        ),
        _ => ("404 Not Found", "unknown control path".to_owned()),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\
         access-control-allow-origin: *\r\naccess-control-allow-methods: GET, OPTIONS\r\n\
         cache-control: no-store\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes())?;
    stream.flush()
}
