//! [`TcpProxy`]: loopback TCP proxy for fault injection.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};

use crate::background::Background;

/// Ack channel handed to a connection task when it must die.
type KillAck = mpsc::SyncSender<()>;

struct Shared {
    target: SocketAddr,
    refuse: AtomicBool,
    blackhole: watch::Sender<bool>,
    accepted: AtomicUsize,
    refused: AtomicUsize,
    active: AtomicUsize,
    next_id: AtomicU64,
    conns: Mutex<HashMap<u64, oneshot::Sender<KillAck>>>,
}

/// A TCP proxy on `127.0.0.1:<random port>` forwarding to a target (typically
/// [`TestServer::addr`](crate::TestServer::addr)), with fault injection:
///
/// * [`drop_all`](Self::drop_all): abort every proxied connection (RST to the client and to the
///   server) — a client WebSocket sees an abnormal close (1006), the server sees a disconnect;
/// * [`set_refuse`](Self::set_refuse): new connections are accepted and immediately reset, so
///   connects/handshakes fail while it is on (they are still counted);
/// * [`set_blackhole`](Self::set_blackhole): stop forwarding bytes in both directions without
///   closing anything (half-open / stalled network, for ping-timeout tests); turning it off
///   resumes forwarding of what was held back.
///
/// It runs on its own thread with its own current-thread tokio runtime, so it can be created
/// from sync tests and from any `#[tokio::test]` flavour, and it keeps working while the test's
/// runtime is blocked. Dropping it closes the listener and every connection.
pub struct TcpProxy {
    shared: Arc<Shared>,
    background: Background,
}

impl std::fmt::Debug for TcpProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpProxy")
            .field("addr", &self.background.addr())
            .field("target", &self.shared.target)
            .field("active", &self.active_count())
            .finish()
    }
}

impl TcpProxy {
    /// Start a proxy to `target` (e.g. `"127.0.0.1:6420"`, a `SocketAddr`, or
    /// `server.addr()`).
    ///
    /// # Panics
    /// If the target does not resolve or the proxy cannot bind; see [`try_start`](Self::try_start).
    pub fn start(target: impl ToSocketAddrs) -> TcpProxy {
        match Self::try_start(target) {
            Ok(p) => p,
            Err(e) => panic!("TcpProxy::start failed: {e}"),
        }
    }

    /// Fallible [`start`](Self::start).
    pub fn try_start(target: impl ToSocketAddrs) -> io::Result<TcpProxy> {
        let target = target
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "target has no address"))?;
        let (blackhole, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            target,
            refuse: AtomicBool::new(false),
            blackhole,
            accepted: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
            active: AtomicUsize::new(0),
            next_id: AtomicU64::new(0),
            conns: Mutex::new(HashMap::new()),
        });
        let thread_shared = shared.clone();
        let background = Background::start("tcp-proxy", move |listener| {
            accept_loop(listener, thread_shared)
        })?;
        Ok(TcpProxy { shared, background })
    }

    /// `http://127.0.0.1:<proxy port>`: use as the client endpoint instead of the server's.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.background.addr())
    }

    /// The proxy's listening address.
    pub fn addr(&self) -> SocketAddr {
        self.background.addr()
    }

    /// The proxy's listening port.
    pub fn port(&self) -> u16 {
        self.background.addr().port()
    }

    /// The address being proxied to.
    pub fn target(&self) -> SocketAddr {
        self.shared.target
    }

    /// Abort every currently proxied connection, both halves, with a TCP reset (SO_LINGER 0).
    /// Returns once they are closed (bounded: 2 s). New connections are still accepted
    /// afterwards (combine with [`set_refuse`](Self::set_refuse) to keep the client out).
    /// Returns how many connections were dropped.
    pub fn drop_all(&self) -> usize {
        let killers: Vec<_> = {
            let mut conns = self.shared.conns.lock().unwrap_or_else(|e| e.into_inner());
            conns.drain().map(|(_, k)| k).collect()
        };
        let (ack_tx, ack_rx) = mpsc::sync_channel(killers.len().max(1));
        let mut pending = 0;
        for k in killers {
            if k.send(ack_tx.clone()).is_ok() {
                pending += 1;
            }
        }
        drop(ack_tx);
        let dropped = pending;
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while pending > 0 {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match ack_rx.recv_timeout(left) {
                Ok(()) => pending -= 1,
                Err(_) => break,
            }
        }
        dropped
    }

    /// While `true`, new connections are accepted and immediately reset (existing ones are
    /// untouched; use [`drop_all`](Self::drop_all) too to simulate a server going away).
    pub fn set_refuse(&self, refuse: bool) {
        self.shared.refuse.store(refuse, Ordering::SeqCst);
    }

    /// While `true`, no bytes are forwarded in either direction; connections stay open (bytes
    /// already read are held back and delivered when it is turned off again).
    pub fn set_blackhole(&self, on: bool) {
        self.shared.blackhole.send_replace(on);
    }

    /// Total connections accepted since start (including ones reset by refuse mode).
    pub fn accepted_count(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Connections reset because refuse mode was on.
    pub fn refused_count(&self) -> usize {
        self.shared.refused.load(Ordering::SeqCst)
    }

    /// Connections currently being proxied.
    pub fn active_count(&self) -> usize {
        self.shared.active.load(Ordering::SeqCst)
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        // Then `background` stops the runtime.
        self.drop_all();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let client = match listener.accept().await {
            Ok((s, _)) => s,
            Err(_) => {
                // EMFILE and friends: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        if shared.refuse.load(Ordering::SeqCst) {
            shared.refused.fetch_add(1, Ordering::SeqCst);
            let _ = client.set_zero_linger();
            drop(client);
            continue;
        }
        let id = shared.next_id.fetch_add(1, Ordering::SeqCst);
        let (kill_tx, kill_rx) = oneshot::channel();
        shared
            .conns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, kill_tx);
        shared.active.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(connection(client, id, kill_rx, shared.clone()));
    }
}

/// Decrements `active` and unregisters the connection however the task ends.
struct ActiveGuard {
    id: u64,
    shared: Arc<Shared>,
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.shared
            .conns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
        self.shared.active.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn connection(
    client: TcpStream,
    id: u64,
    mut kill_rx: oneshot::Receiver<KillAck>,
    shared: Arc<Shared>,
) {
    let guard = ActiveGuard {
        id,
        shared: shared.clone(),
    };
    let _ = client.set_nodelay(true);
    let upstream = tokio::select! {
        r = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(shared.target)) => r,
        ack = &mut kill_rx => {
            let _ = client.set_zero_linger();
            drop(client);
            drop(guard); // counted as gone before drop_all returns
            if let Ok(ack) = ack { let _ = ack.send(()); }
            return;
        }
    };
    let upstream = match upstream {
        Ok(Ok(s)) => s,
        _ => {
            // Target down: reset the client like a dead server would.
            let _ = client.set_zero_linger();
            return;
        }
    };
    let _ = upstream.set_nodelay(true);
    let mut client = client;
    let mut upstream = upstream;
    let outcome = {
        let (cr, cw) = client.split();
        let (ur, uw) = upstream.split();
        let bh = shared.blackhole.subscribe();
        let up = pump(cr, uw, bh.clone());
        let down = pump(ur, cw, bh);
        tokio::pin!(up);
        tokio::pin!(down);
        let mut up_done = false;
        let mut down_done = false;
        loop {
            tokio::select! {
                r = &mut up, if !up_done => {
                    if r.is_err() { break Outcome::Failed; }
                    up_done = true;
                }
                r = &mut down, if !down_done => {
                    if r.is_err() { break Outcome::Failed; }
                    down_done = true;
                }
                ack = &mut kill_rx => break Outcome::Killed(ack.ok()),
            }
            if up_done && down_done {
                break Outcome::Clean;
            }
        }
    };
    match outcome {
        Outcome::Clean => {}
        Outcome::Failed => {
            // One direction failed (e.g. a reset): propagate it as a reset on both sides.
            let _ = client.set_zero_linger();
            let _ = upstream.set_zero_linger();
        }
        Outcome::Killed(ack) => {
            let _ = client.set_zero_linger();
            let _ = upstream.set_zero_linger();
            drop(client);
            drop(upstream);
            drop(guard); // counted as gone before drop_all returns
            if let Some(ack) = ack {
                let _ = ack.send(());
            }
        }
    }
}

enum Outcome {
    /// Both directions reached EOF.
    Clean,
    /// A read or write failed.
    Failed,
    /// `drop_all` (or proxy drop) asked for an abort.
    Killed(Option<KillAck>),
}

/// Copy `from` → `to` until EOF (then half-close `to`), honouring the blackhole switch.
async fn pump(
    mut from: ReadHalf<'_>,
    mut to: WriteHalf<'_>,
    mut blackhole: watch::Receiver<bool>,
) -> io::Result<()> {
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        if *blackhole.borrow() {
            let _ = blackhole.wait_for(|on| !*on).await;
        }
        let n = from.read(&mut buf).await?;
        if n == 0 {
            let _ = to.shutdown().await;
            return Ok(());
        }
        // Hold back bytes read just as the blackhole got switched on.
        if *blackhole.borrow() {
            let _ = blackhole.wait_for(|on| !*on).await;
        }
        to.write_all(&buf[..n]).await?;
    }
}
