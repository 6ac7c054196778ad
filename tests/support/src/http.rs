//! A minimal blocking HTTP/1.1 client (std `TcpStream`, `Connection: close`, plain HTTP only).
//!
//! Good enough for readiness checks and for tests that need to reach the gateway independently
//! of the client under test (for example to check server-side state after a fault).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// A fully read HTTP response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code, e.g. `200`.
    pub status: u16,
    /// Response headers in wire order, names lowercased.
    pub headers: Vec<(String, String)>,
    /// Body, de-chunked if the server used `transfer-encoding: chunked`.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// First header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Body as (lossy) UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Body parsed as JSON.
    pub fn json(&self) -> Result<serde_json::Value, String> {
        serde_json::from_slice(&self.body)
            .map_err(|e| format!("response body is not JSON ({e}): {}", self.text()))
    }
}

/// Send one request to `http://{host_port}{path_and_query}` and read the whole response.
///
/// `host_port` is `"127.0.0.1:6420"` or an `http://127.0.0.1:6420` endpoint (scheme and trailing
/// slash are stripped). `timeout` bounds connect, and each read and write.
pub fn request(
    host_port: &str,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> io::Result<HttpResponse> {
    let host_port = host_port
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let addr: SocketAddr = host_port
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address"))?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.set_nodelay(true)?;

    let mut req = format!(
        "{method} {path_and_query} HTTP/1.1\r\nhost: {host_port}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(k);
        req.push_str(": ");
        req.push_str(v);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes)?;

    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw)
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

fn parse_response(raw: &[u8]) -> io::Result<HttpResponse> {
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad(format!("incomplete HTTP response ({} bytes)", raw.len())))?;
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| bad(format!("bad status line: {status_line:?}")))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &raw[head_end + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        dechunk(rest)?
    } else {
        rest.to_vec()
    };
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| bad("truncated chunk header"))?;
        let size_str = String::from_utf8_lossy(&data[..line_end]);
        let size_str = size_str.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_str, 16)
            .map_err(|_| bad(format!("bad chunk size {size_str:?}")))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size {
            return Err(bad("truncated chunk"));
        }
        out.extend_from_slice(&data[..size]);
        data = data.get(size + 2..).unwrap_or(&[]);
    }
}

/// Percent-encode everything outside `[A-Za-z0-9-_.~]` (for query values such as `rvt-key`).
pub fn encode_query_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Gateway path for a query-addressed (`getOrCreate`) actor endpoint, e.g.
/// `gateway_path("counter", "k1", "/action/getCount")` →
/// `/gateway/counter/action/getCount?rvt-namespace=default&rvt-method=getOrCreate&rvt-runner=default&rvt-key=k1&rvt-crash-policy=sleep`.
/// `key` is the already comma-joined key.
pub fn gateway_path(actor: &str, key: &str, path: &str) -> String {
    format!(
        "/gateway/{}{path}?rvt-namespace=default&rvt-method=getOrCreate&rvt-runner=default&rvt-key={}&rvt-crash-policy=sleep",
        encode_query_value(actor),
        encode_query_value(key),
    )
}

/// Call a stateless action over HTTP with the JSON encoding (`getOrCreate` on `actor`/`key`).
///
/// `endpoint` is e.g. [`TestServer::endpoint`](crate::TestServer::endpoint) or a
/// [`TcpProxy::endpoint`](crate::TcpProxy::endpoint). `args` is a JSON array. Returns the raw
/// response so callers can look at status and error bodies; see [`action_ok`] for the happy path.
pub fn action(
    endpoint: &str,
    actor: &str,
    key: &str,
    name: &str,
    args: &serde_json::Value,
    timeout: Duration,
) -> io::Result<HttpResponse> {
    let body = serde_json::json!({ "args": args }).to_string();
    request(
        endpoint,
        "POST",
        &gateway_path(actor, key, &format!("/action/{}", encode_query_value(name))),
        &[
            ("x-rivet-encoding", "json"),
            ("content-type", "application/json"),
        ],
        body.as_bytes(),
        timeout,
    )
}

/// Like [`action`] but requires a 200 and returns the decoded `output` (30 s timeout).
pub fn action_ok(
    endpoint: &str,
    actor: &str,
    key: &str,
    name: &str,
    args: &serde_json::Value,
) -> Result<serde_json::Value, String> {
    let resp = action(endpoint, actor, key, name, args, Duration::from_secs(30))
        .map_err(|e| format!("{actor}[{key}].{name}: {e}"))?;
    if resp.status != 200 {
        return Err(format!(
            "{actor}[{key}].{name}: HTTP {}: {}",
            resp.status,
            resp.text()
        ));
    }
    let mut v = resp.json()?;
    Ok(v.get_mut("output")
        .map(serde_json::Value::take)
        .unwrap_or_default())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_chunked() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let r = parse_response(raw).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"abcde");
        assert_eq!(r.header("x-a"), Some("b"));
    }
}
