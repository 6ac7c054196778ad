//! The server of the SSR test app: renders [`rivet_ssr_app::App`] with leptos's SSR for every
//! `GET /?endpoint=…&key=…`, serves the browser bundle under `/pkg/`, and reports on
//! `GET /stats` what the server's one shared client did (`renders`, `live_connections`,
//! `opened_total`: the last two must stay 0, since server rendering opens nothing).
//!
//! `rivet-ssr-app <pkg dir> <endpoint>`: listens on 127.0.0.1 at a port the OS picks and
//! prints `listening on http://127.0.0.1:PORT`; runs until its stdin closes.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use hydration_context::SsrSharedContext;
use leptos::prelude::*;
use percent_encoding::percent_decode_str;
use rivet_core::Client;
use rivet_leptos::prelude::provide_rivet;
use rivet_ssr_app::App;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// What every request handler shares.
struct Server {
    client: Client,
    pkg: PathBuf,
    renders: AtomicU64,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(pkg), Some(endpoint)) = (args.next(), args.next()) else {
        eprintln!("usage: rivet-ssr-app <pkg dir> <endpoint>");
        std::process::exit(2);
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => fail(&format!("tokio runtime: {error}")),
    };
    runtime.block_on(async move {
        let client = Client::new(endpoint.as_str())
            .unwrap_or_else(|error| fail(&format!("endpoint {endpoint}: {error}")));
        let server = Arc::new(Server {
            client,
            pkg: PathBuf::from(pkg),
            renders: AtomicU64::new(0),
        });
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|error| fail(&format!("bind: {error}")));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        println!("listening on http://127.0.0.1:{port}");
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let server = server.clone();
                tokio::spawn(async move {
                    let _ = serve(&server, stream).await;
                });
            }
        });
        // Stop when whoever started us closes our stdin (read on a thread of its own: tokio's
        // stdin would add a feature, and so a rebuild of tokio, for this one line).
        let (closed, stdin_closed) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
            let _ = closed.send(());
        });
        let _ = stdin_closed.await;
    });
}

fn fail(message: &str) -> ! {
    eprintln!("rivet-ssr-app: {message}");
    std::process::exit(1);
}

/// One request on one connection (`Connection: close`).
async fn serve(server: &Server, stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).await?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).await? == 0 || header == "\r\n" || header == "\n" {
            break;
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("/");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let (status, content_type, body) = if path == "/" {
        let html = render(server, param(query, "endpoint"), param(query, "key"));
        (200, "text/html; charset=utf-8", html.into_bytes())
    } else if path == "/stats" {
        let stats = format!(
            r#"{{"renders":{},"live_connections":{},"opened_total":{}}}"#,
            server.renders.load(Ordering::SeqCst),
            server.client.live_connections(),
            server.client.manager().opened_total()
        );
        (200, "application/json", stats.into_bytes())
    } else if path == "/favicon.ico" {
        (204, "text/plain", Vec::new())
    } else if let Some(file) = path.strip_prefix("/pkg/") {
        match read_pkg(&server.pkg, file).await {
            Some(bytes) if file.ends_with(".wasm") => (200, "application/wasm", bytes),
            Some(bytes) => (200, "text/javascript; charset=utf-8", bytes),
            None => (404, "text/plain", b"not found".to_vec()),
        }
    } else {
        (404, "text/plain", b"not found".to_vec())
    };
    let mut stream = reader.into_inner();
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&body).await?;
    stream.shutdown().await
}

/// A file of the browser bundle; nothing outside `pkg`. Read with `std::fs` (small files, a
/// test server): `tokio::fs` would need another tokio feature.
async fn read_pkg(pkg: &Path, file: &str) -> Option<Vec<u8>> {
    if file.is_empty() || file.contains("..") || file.contains('/') {
        return None;
    }
    std::fs::read(pkg.join(file)).ok()
}

/// The decoded value of query parameter `name` (empty if absent).
fn param(query: &str, name: &str) -> String {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| {
            percent_decode_str(&value.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
        .unwrap_or_default()
}

/// The whole page: the app rendered as leptos's server integrations do (a root owner with an
/// SSR shared context), in a shell whose script loads the bundle and hydrates the body.
fn render(server: &Server, endpoint: String, key: String) -> String {
    server.renders.fetch_add(1, Ordering::SeqCst);
    let owner = Owner::new_root(Some(Arc::new(SsrSharedContext::new())));
    let client = server.client.clone();
    let body = owner.with(move || {
        provide_rivet(client);
        view! { <App endpoint=endpoint key=key/> }.to_html()
    });
    owner.cleanup();
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>rivet-leptos SSR</title>
<script>__RESOLVED_RESOURCES = []; __SERIALIZED_ERRORS = []; __INCOMPLETE_CHUNKS = [];</script>
<script type="module">
import init, {{ hydrate }} from "/pkg/rivet_ssr_app.js";
await init({{ module_or_path: "/pkg/rivet_ssr_app_bg.wasm" }});
hydrate();
window.__hydrated = true;
</script>
</head>
<body>{body}</body>
</html>
"#
    )
}
