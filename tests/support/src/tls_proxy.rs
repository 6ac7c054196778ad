//! [`TlsProxy`]: a TLS-terminating loopback proxy in front of the real server, with a
//! throwaway certificate authority ([`TestCa`]), that records the head of every request it
//! forwards.
//!
//! It stands in for the load balancer of a remote deployment: the client under test talks
//! `https`/`wss` to `127.0.0.1:<port>` with a certificate for `localhost` and `127.0.0.1`
//! signed by a CA that exists only in this process, and the proxy forwards plaintext to the
//! [`TestServer`](crate::TestServer). Tests then assert on what reached it
//! ([`TlsProxy::requests`]): the method, path and query, and headers of each request and each
//! WebSocket upgrade.
//!
//! ```no_run
//! use rivet_test_support::tls_proxy::{TestCa, TlsProxy};
//! use rivet_test_support::TestServer;
//!
//! let ca = TestCa::new();
//! let proxy = TlsProxy::start(TestServer::shared().addr(), &ca);
//! // Client endpoint: proxy.endpoint() == "https://127.0.0.1:<port>", trusting ca.cert_pem().
//! for head in proxy.requests() {
//!     println!("{} {}", head.method, head.target);
//! }
//! ```
//!
//! HTTP/1.1 only (no ALPN is offered, so clients fall back to it). Requests on one connection
//! are framed by `content-length`; a request with `transfer-encoding: chunked` or a WebSocket
//! upgrade is recorded and then the rest of the connection is piped as is.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

use crate::background::{self, Background};

/// A certificate authority generated for one test run: a self-signed root whose certificate
/// the client under test is told to trust, and which signs the proxies' server certificates.
pub struct TestCa {
    cert_pem: String,
    cert_der: Vec<u8>,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

impl TestCa {
    /// A fresh CA (ECDSA P-256, common name `rivet-rs test CA`).
    ///
    /// # Panics
    /// If key generation or signing fails (never with the built-in crypto provider).
    pub fn new() -> TestCa {
        let key = KeyPair::generate().unwrap_or_else(|e| panic!("CA key: {e}"));
        let mut params = CertificateParams::new(Vec::<String>::new())
            .unwrap_or_else(|e| panic!("CA params: {e}"));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "rivet-rs test CA");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params
            .self_signed(&key)
            .unwrap_or_else(|e| panic!("CA certificate: {e}"));
        TestCa {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            issuer: Issuer::new(params, key),
        }
    }

    /// The CA certificate, PEM (`-----BEGIN CERTIFICATE-----…`).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// A server certificate for `names` (DNS names or IP addresses) signed by this CA, and its
    /// PKCS#8 private key, both DER.
    fn issue(&self, names: &[&str]) -> (Vec<u8>, Vec<u8>) {
        let key = KeyPair::generate().unwrap_or_else(|e| panic!("server key: {e}"));
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params =
            CertificateParams::new(names).unwrap_or_else(|e| panic!("server params: {e}"));
        params
            .distinguished_name
            .push(DnType::CommonName, "rivet-rs test server");
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params
            .signed_by(&key, &self.issuer)
            .unwrap_or_else(|e| panic!("server certificate: {e}"));
        (cert.der().to_vec(), key.serialize_der())
    }
}

/// The head of one request the proxy forwarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// `GET`, `POST`, …
    pub method: String,
    /// The request target as sent: path and query, e.g. `/gateway/counter/action/x?rvt-…`.
    pub target: String,
    /// Every header, names lower case, in the order sent.
    pub headers: Vec<(String, String)>,
    /// Which proxied connection it came on (0, 1, … in accept order); see
    /// [`TlsProxy::connection_stats`].
    pub connection: usize,
}

/// What the server sent back on one proxied connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectionStats {
    /// Bytes the server sent (forwarded to the client).
    pub bytes_from_server: u64,
    /// Whether the server closed its side.
    pub server_closed: bool,
}

impl RequestHead {
    /// The path, without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of query parameter `name`, percent-decoded (`+` stays `+`).
    pub fn query(&self, name: &str) -> Option<String> {
        let query = self.target.split_once('?')?.1;
        query.split('&').find_map(|pair| {
            let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(n) == name).then(|| percent_decode(v))
        })
    }

    /// Whether this is a WebSocket upgrade.
    pub fn is_websocket(&self) -> bool {
        self.header("upgrade")
            .is_some_and(|u| u.eq_ignore_ascii_case("websocket"))
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct Shared {
    target: SocketAddr,
    acceptor: TlsAcceptor,
    requests: Mutex<Vec<RequestHead>>,
    failed_handshakes: Mutex<usize>,
    connections: Mutex<Vec<ConnectionStats>>,
}

/// A TLS-terminating proxy on `127.0.0.1:<random port>` forwarding plaintext to a target
/// (typically [`TestServer::addr`](crate::TestServer::addr)) and recording every request head.
///
/// Own thread and tokio runtime, like [`TcpProxy`](crate::TcpProxy); dropping it closes the
/// listener and every connection.
pub struct TlsProxy {
    shared: Arc<Shared>,
    background: Background,
}

impl std::fmt::Debug for TlsProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsProxy")
            .field("addr", &self.background.addr())
            .field("target", &self.shared.target)
            .finish()
    }
}

impl TlsProxy {
    /// A proxy to `target` with a certificate for `localhost` and `127.0.0.1` signed by `ca`.
    ///
    /// # Panics
    /// If the target does not resolve or the proxy cannot bind.
    pub fn start(target: impl ToSocketAddrs, ca: &TestCa) -> TlsProxy {
        Self::start_with_names(target, ca, &["localhost", "127.0.0.1"])
    }

    /// A proxy whose certificate (signed by `ca`) is valid for `names` only, e.g.
    /// `&["elsewhere.example"]` to see a client refuse a certificate for the wrong host.
    ///
    /// # Panics
    /// If the target does not resolve or the proxy cannot bind.
    pub fn start_with_names(target: impl ToSocketAddrs, ca: &TestCa, names: &[&str]) -> TlsProxy {
        match Self::try_start(target, ca, names) {
            Ok(proxy) => proxy,
            Err(e) => panic!("TlsProxy::start failed: {e}"),
        }
    }

    fn try_start(target: impl ToSocketAddrs, ca: &TestCa, names: &[&str]) -> io::Result<TlsProxy> {
        let target = target
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "target has no address"))?;
        let (cert, key) = ca.issue(names);
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(
                vec![
                    CertificateDer::from(cert),
                    CertificateDer::from(ca.cert_der.clone()),
                ],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)),
            )
            .map_err(io::Error::other)?;
        let shared = Arc::new(Shared {
            target,
            acceptor: TlsAcceptor::from(Arc::new(config)),
            requests: Mutex::new(Vec::new()),
            failed_handshakes: Mutex::new(0),
            connections: Mutex::new(Vec::new()),
        });
        let thread_shared = shared.clone();
        let background = Background::start("tls-proxy", move |listener| {
            accept_loop(listener, thread_shared)
        })?;
        Ok(TlsProxy { shared, background })
    }

    /// `https://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("https://{}", self.background.addr())
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.background.addr().port()
    }

    /// Every request head forwarded so far, in order.
    pub fn requests(&self) -> Vec<RequestHead> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Per proxied connection (indexed by [`RequestHead::connection`]): what the server sent
    /// back. Tells a request the server never answered from an answer lost on the way.
    pub fn connection_stats(&self) -> Vec<ConnectionStats> {
        self.shared
            .connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// TLS handshakes that failed (e.g. the client refused the certificate).
    pub fn failed_handshakes(&self) -> usize {
        *self
            .shared
            .failed_handshakes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let tls = match shared.acceptor.accept(client).await {
                Ok(tls) => tls,
                Err(_) => {
                    *shared
                        .failed_handshakes
                        .lock()
                        .unwrap_or_else(|e| e.into_inner()) += 1;
                    return;
                }
            };
            let Ok(server) = TcpStream::connect(shared.target).await else {
                return;
            };
            let _ = server.set_nodelay(true);
            let connection = {
                let mut connections = shared.connections.lock().unwrap_or_else(|e| e.into_inner());
                connections.push(ConnectionStats::default());
                connections.len() - 1
            };
            forward(tls, server, shared, connection).await;
        });
    }
}

/// Client to server: request heads parsed, recorded and forwarded, bodies by
/// `content-length`; server to client: piped as is.
async fn forward(
    client: tokio_rustls::server::TlsStream<TcpStream>,
    server: TcpStream,
    shared: Arc<Shared>,
    connection: usize,
) {
    let (mut client_read, mut client_write) = tokio::io::split(client);
    let (mut server_read, mut server_write) = server.into_split();
    let down_shared = shared.clone();
    let down = async move {
        let mut chunk = vec![0u8; 16 * 1024];
        loop {
            let n = match server_read.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if let Some(stats) = down_shared
                .connections
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_mut(connection)
            {
                stats.bytes_from_server += n as u64;
            }
            if client_write.write_all(&chunk[..n]).await.is_err() {
                break;
            }
            let _ = client_write.flush().await;
        }
        if let Some(stats) = down_shared
            .connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(connection)
        {
            stats.server_closed = true;
        }
        let _ = client_write.shutdown().await;
    };
    let up = async move {
        let _ = forward_requests(&mut client_read, &mut server_write, &shared, connection).await;
        let _ = server_write.shutdown().await;
    };
    tokio::join!(down, up);
}

async fn forward_requests<R, W>(
    client: &mut R,
    server: &mut W,
    shared: &Shared,
    connection: usize,
) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let Some(head_end) = background::read_head(client, &mut buf).await? else {
            return Ok(());
        };
        let Some(mut head) = parse_head(&buf[..head_end]) else {
            return Ok(());
        };
        head.connection = connection;
        let body_len = head
            .header("content-length")
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        let pipe_rest = head.is_websocket()
            || head
                .header("transfer-encoding")
                .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        shared
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(head);
        if pipe_rest {
            server.write_all(&buf).await?;
            tokio::io::copy(client, server).await?;
            return Ok(());
        }
        let request_len = head_end + body_len;
        while buf.len() < request_len {
            let mut chunk = [0u8; 8192];
            let n = client.read(&mut chunk).await?;
            if n == 0 {
                server.write_all(&buf).await?;
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        server.write_all(&buf[..request_len]).await?;
        buf.drain(..request_len);
    }
}

fn parse_head(raw: &[u8]) -> Option<RequestHead> {
    let head = background::parse_head(raw)?;
    Some(RequestHead {
        method: head.method,
        target: head.target,
        headers: head.headers,
        connection: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_parse_and_queries_decode() {
        let head = parse_head(
            b"GET /gateway/c/connect?rvt-namespace=my%20ns&rvt-token=t HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n",
        )
        .unwrap_or_else(|| panic!("parse"));
        assert_eq!(head.method, "GET");
        assert_eq!(head.path(), "/gateway/c/connect");
        assert_eq!(head.query("rvt-namespace").as_deref(), Some("my ns"));
        assert_eq!(head.query("rvt-token").as_deref(), Some("t"));
        assert_eq!(head.header("HOST"), Some("x"));
        assert!(head.is_websocket());
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
