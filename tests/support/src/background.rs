//! What the harness's loopback servers (proxies, the hostile gateway) share: a listener on
//! `127.0.0.1:<free port>` served on a thread of its own with a current-thread tokio runtime,
//! so a server works from sync tests and from any `#[tokio::test]` flavour and keeps working
//! while the test's runtime is blocked; and the request-head parsing they all need.

use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A server running in the background. Dropping it stops its runtime, which cancels every
/// task and closes every socket it holds, and waits for the thread.
#[derive(Debug)]
pub(crate) struct Background {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Background {
    /// Binds a free loopback port and runs `serve(listener)` on a new thread named
    /// `{name}-{port}` until the returned value is dropped.
    pub(crate) fn start<F, Fut>(name: &str, serve: F) -> io::Result<Background>
    where
        F: FnOnce(TcpListener) -> Fut + Send + 'static,
        Fut: Future<Output = ()>,
    {
        let std_listener = StdListener::bind("127.0.0.1:0")?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = mpsc::sync_channel::<io::Result<()>>(1);
        let thread = std::thread::Builder::new()
            .name(format!("{name}-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match TcpListener::from_std(std_listener) {
                        Ok(listener) => {
                            let _ = ready_tx.send(Ok(()));
                            listener
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    tokio::select! {
                        () = serve(listener) => {}
                        _ = shutdown_rx => {}
                    }
                });
                // Dropping the runtime here cancels every task and closes its sockets.
            })?;
        ready_rx
            .recv()
            .map_err(|_| io::Error::other(format!("{name} thread exited before binding")))??;
        Ok(Background {
            addr,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        })
    }

    /// The listening address.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The largest request head the loopback servers read.
pub(crate) const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Reads from `reader` into `buf` until `buf` holds a whole request head; returns where it
/// ends, or `None` when the peer closed first or the head exceeds [`MAX_HEAD_BYTES`].
pub(crate) async fn read_head<R: AsyncRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
) -> io::Result<Option<usize>> {
    loop {
        if let Some(end) = find_head_end(buf) {
            return Ok(Some(end));
        }
        if buf.len() > MAX_HEAD_BYTES {
            return Ok(None);
        }
        let mut chunk = [0u8; 8192];
        let n = reader.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Where an HTTP/1.1 request head ends (after its blank line), if `buf` holds all of it.
pub(crate) fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// A parsed request head: method, request target as sent, headers with lower-case names.
pub(crate) struct ParsedHead {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) headers: Vec<(String, String)>,
}

/// Parses a request head (up to and including its blank line); `None` if it is not one.
pub(crate) fn parse_head(raw: &[u8]) -> Option<ParsedHead> {
    let text = std::str::from_utf8(raw).ok()?;
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    let headers = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| {
            let (name, value) = l.split_once(':')?;
            Some((name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        })
        .collect();
    Some(ParsedHead {
        method,
        target,
        headers,
    })
}
