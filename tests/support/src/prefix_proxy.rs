//! [`PrefixProxy`]: a plain-HTTP loopback proxy that serves the real server under a path
//! prefix, as a deployment does that mounts the engine at `https://app.example/api/rivet`.
//!
//! Every request target must start with the prefix (`/api/rivet/…`, or exactly `/api/rivet`);
//! the proxy strips it and forwards the request to the target server. A request without it is
//! answered `404` (after the answers to earlier requests on that connection) and the
//! connection is closed, so a client that drops the prefix anywhere fails. Requests on one
//! connection are framed by `content-length`; after a WebSocket upgrade or a chunked body the
//! rest of the connection is piped as is. Every request head is recorded with its target as the
//! client sent it.
//!
//! ```no_run
//! use rivet_test_support::prefix_proxy::PrefixProxy;
//! use rivet_test_support::TestServer;
//!
//! let proxy = PrefixProxy::start(TestServer::shared().addr(), "/api/rivet");
//! // Client endpoint: proxy.endpoint() == "http://127.0.0.1:<port>/api/rivet".
//! assert_eq!(proxy.rejected(), 0);
//! ```

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

use crate::background::{self, parse_head, Background};
use crate::tls_proxy::RequestHead;

const NOT_FOUND: &[u8] = b"HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\n\
content-length: 28\r\nconnection: close\r\n\r\nmissing the endpoint's prefix";

struct Shared {
    target: SocketAddr,
    prefix: String,
    requests: Mutex<Vec<RequestHead>>,
    rejected: AtomicUsize,
    connections: AtomicUsize,
}

/// A proxy on `127.0.0.1:<random port>` serving `target` under a path prefix.
///
/// Own thread and tokio runtime, like [`TcpProxy`](crate::TcpProxy); dropping it closes the
/// listener and every connection.
pub struct PrefixProxy {
    shared: Arc<Shared>,
    background: Background,
}

impl std::fmt::Debug for PrefixProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrefixProxy")
            .field("addr", &self.background.addr())
            .field("prefix", &self.shared.prefix)
            .field("target", &self.shared.target)
            .finish()
    }
}

impl PrefixProxy {
    /// A proxy serving `target` under `prefix` (starting with `/`, no trailing `/`, e.g.
    /// `/api/rivet`).
    ///
    /// # Panics
    /// If the target does not resolve, the prefix is malformed or the proxy cannot bind.
    pub fn start(target: impl ToSocketAddrs, prefix: &str) -> PrefixProxy {
        assert!(
            prefix.starts_with('/') && !prefix.ends_with('/'),
            "prefix {prefix:?} must start with / and not end with /"
        );
        match Self::try_start(target, prefix) {
            Ok(proxy) => proxy,
            Err(e) => panic!("PrefixProxy::start failed: {e}"),
        }
    }

    fn try_start(target: impl ToSocketAddrs, prefix: &str) -> io::Result<PrefixProxy> {
        let target = target
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "target has no address"))?;
        let shared = Arc::new(Shared {
            target,
            prefix: prefix.to_owned(),
            requests: Mutex::new(Vec::new()),
            rejected: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
        });
        let thread_shared = shared.clone();
        let background = Background::start("prefix-proxy", move |listener| {
            accept_loop(listener, thread_shared)
        })?;
        Ok(PrefixProxy { shared, background })
    }

    /// `http://127.0.0.1:<port>{prefix}`: the endpoint to give the client.
    pub fn endpoint(&self) -> String {
        format!("http://{}{}", self.background.addr(), self.shared.prefix)
    }

    /// Every request head received so far, in order, with the target as the client sent it
    /// (prefix included), including rejected ones.
    pub fn requests(&self) -> Vec<RequestHead> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Requests answered `404` because their target lacked the prefix.
    pub fn rejected(&self) -> usize {
        self.shared.rejected.load(Ordering::SeqCst)
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        shared.connections.fetch_add(1, Ordering::SeqCst);
        let shared = shared.clone();
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(shared.target).await else {
                return;
            };
            let _ = server.set_nodelay(true);
            let _ = client.set_nodelay(true);
            let (client_read, mut client_write) = client.into_split();
            let (mut server_read, server_write) = server.into_split();
            let reject = Arc::new(AtomicBool::new(false));
            let down_reject = reject.clone();
            let down = async move {
                let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                // The server answered everything before the unprefixed request; now its 404.
                if down_reject.load(Ordering::SeqCst) {
                    let _ = client_write.write_all(NOT_FOUND).await;
                }
                let _ = client_write.shutdown().await;
            };
            let up = async move {
                let mut server_write = server_write;
                let _ = forward_requests(client_read, &mut server_write, &shared, &reject).await;
                let _ = server_write.shutdown().await;
            };
            tokio::join!(down, up);
        });
    }
}

/// Client to server: each request head is checked, recorded and forwarded without the
/// prefix; bodies by `content-length`.
async fn forward_requests(
    mut client: OwnedReadHalf,
    server: &mut OwnedWriteHalf,
    shared: &Shared,
    reject: &AtomicBool,
) -> io::Result<()> {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let Some(head_end) = background::read_head(&mut client, &mut buf).await? else {
            return Ok(());
        };
        let Some(head) = parse_head(&buf[..head_end]) else {
            return Ok(());
        };
        let head = RequestHead {
            method: head.method,
            target: head.target,
            headers: head.headers,
            connection: 0,
        };
        let stripped = strip_prefix(&head.target, &shared.prefix);
        let body_len = head
            .header("content-length")
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        let pipe_rest = head.is_websocket()
            || head
                .header("transfer-encoding")
                .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        let target = head.target.clone();
        shared
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(head);
        let Some(stripped) = stripped else {
            shared.rejected.fetch_add(1, Ordering::SeqCst);
            reject.store(true, Ordering::SeqCst);
            return Ok(());
        };
        // Rewrite the request line only: `METHOD <target> HTTP/1.1`.
        let line_end = buf.windows(2).position(|w| w == b"\r\n").unwrap_or(0);
        let line = String::from_utf8_lossy(&buf[..line_end]).replacen(&target, &stripped, 1);
        let mut rewritten = line.into_bytes();
        rewritten.extend_from_slice(&buf[line_end..head_end]);
        if pipe_rest {
            server.write_all(&rewritten).await?;
            server.write_all(&buf[head_end..]).await?;
            tokio::io::copy(&mut client, server).await?;
            return Ok(());
        }
        let request_len = head_end + body_len;
        while buf.len() < request_len {
            let mut chunk = [0u8; 8192];
            let n = client.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        server.write_all(&rewritten).await?;
        server.write_all(&buf[head_end..request_len]).await?;
        buf.drain(..request_len);
    }
}

/// `target` without `prefix`, if it starts with it as whole path segments (`/api/rivet`,
/// `/api/rivet/…`, `/api/rivet?…`); `/` when nothing is left of the path.
fn strip_prefix(target: &str, prefix: &str) -> Option<String> {
    let rest = target.strip_prefix(prefix)?;
    if rest.is_empty() || rest.starts_with('?') {
        Some(format!("/{rest}"))
    } else if rest.starts_with('/') {
        Some(rest.to_owned())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_is_stripped_on_segment_boundaries_only() {
        let p = "/api/rivet";
        assert_eq!(
            strip_prefix("/api/rivet/actors?x=1", p).as_deref(),
            Some("/actors?x=1")
        );
        assert_eq!(strip_prefix("/api/rivet", p).as_deref(), Some("/"));
        assert_eq!(strip_prefix("/api/rivet?x", p).as_deref(), Some("/?x"));
        assert_eq!(strip_prefix("/api/rivetx/actors", p), None);
        assert_eq!(strip_prefix("/actors", p), None);
        assert_eq!(strip_prefix("/gateway/api/rivet", p), None);
    }
}
