//! Raw HTTP to an actor's `onRequest` handler: request builder and response.

use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::transport::HttpResponse;
use crate::{Error, Result};

/// A raw HTTP request for [`ActorHandle::fetch`](crate::ActorHandle::fetch).
///
/// ```
/// use rivet_core::RawRequest;
/// let request = RawRequest::post(b"hello".to_vec())
///     .header("content-type", "text/plain")
///     .timeout(std::time::Duration::from_secs(5));
/// assert_eq!(request.method(), "POST");
/// ```
#[derive(Debug, Clone)]
pub struct RawRequest {
    method: &'static str,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    timeout: Option<Duration>,
    skip_ready_wait: Option<bool>,
    max_response_size: Option<usize>,
}

impl RawRequest {
    fn with_method(method: &'static str, body: Option<Vec<u8>>) -> Self {
        Self {
            method,
            headers: Vec::new(),
            body,
            timeout: None,
            skip_ready_wait: None,
            max_response_size: None,
        }
    }

    /// A `GET` request.
    pub fn get() -> Self {
        Self::with_method("GET", None)
    }

    /// A `POST` request with `body`.
    pub fn post(body: impl Into<Vec<u8>>) -> Self {
        Self::with_method("POST", Some(body.into()))
    }

    /// A `PUT` request with `body`.
    pub fn put(body: impl Into<Vec<u8>>) -> Self {
        Self::with_method("PUT", Some(body.into()))
    }

    /// A `DELETE` request.
    pub fn delete() -> Self {
        Self::with_method("DELETE", None)
    }

    /// A `PATCH` request with `body`.
    pub fn patch(body: impl Into<Vec<u8>>) -> Self {
        Self::with_method("PATCH", Some(body.into()))
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The deadline of the whole request, retries included (default: the client's request
    /// timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Whether this request skips the gateway's wait for the actor to be ready (default: the
    /// handle's setting); see
    /// [`ActorHandle::with_skip_ready_wait`](crate::ActorHandle::with_skip_ready_wait).
    ///
    /// ```
    /// let request = rivet_core::RawRequest::get().skip_ready_wait(true);
    /// # let _ = request;
    /// ```
    pub fn skip_ready_wait(mut self, skip: bool) -> Self {
        self.skip_ready_wait = Some(skip);
        self
    }

    pub(crate) fn skip_ready_wait_value(&self) -> Option<bool> {
        self.skip_ready_wait
    }

    /// The largest response body to accept, in bytes (default: the client's
    /// [`max_raw_response_size`](crate::ClientConfig::max_raw_response_size), 16 MiB). A
    /// larger body fails with [`Error::TooLarge`] without being read past the limit.
    ///
    /// ```
    /// let request = rivet_core::RawRequest::get().max_response_size(256 * 1024 * 1024);
    /// # let _ = request;
    /// ```
    pub fn max_response_size(mut self, bytes: usize) -> Self {
        self.max_response_size = Some(bytes);
        self
    }

    /// The method.
    pub fn method(&self) -> &'static str {
        self.method
    }

    pub(crate) fn timeout_value(&self) -> Option<Duration> {
        self.timeout
    }

    pub(crate) fn max_response_size_value(&self) -> Option<usize> {
        self.max_response_size
    }

    pub(crate) fn into_parts(self) -> RawParts {
        (self.method, self.headers, self.body)
    }
}

/// Method, headers and body of a [`RawRequest`].
pub(crate) type RawParts = (&'static str, Vec<(String, String)>, Option<Vec<u8>>);

/// The answer of an actor's `onRequest` handler.
#[derive(Debug, Clone)]
pub struct RawResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawResponse {
    pub(crate) fn from_http(response: HttpResponse) -> Self {
        Self {
            status: response.status,
            headers: response.headers,
            body: response.body,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All headers, names in lower case.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The body bytes.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body)
            .map_err(|e| Error::decode("raw response body as JSON", e))
    }
}

/// Splits `"/a/b?q=1"` into `("/a/b", Some("q=1"))`, adding the leading `/` and
/// percent-encoding what a URL path cannot hold.
pub(crate) fn split_path(path: &str) -> Result<(String, Option<String>)> {
    if path.contains('#') {
        return Err(Error::invalid(
            "path",
            path,
            "must not contain a fragment (#); fragments are never sent to servers",
        ));
    }
    let (path, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q.to_owned())),
        None => (path, None),
    };
    let mut out = String::with_capacity(path.len() + 1);
    if !path.starts_with('/') {
        out.push('/');
    }
    for ch in path.chars() {
        if ch.is_ascii_graphic() {
            out.push(ch);
        } else {
            let mut buf = [0u8; 4];
            for byte in ch.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    let query = query.map(|q| q.replace(' ', "%20"));
    Ok((out, query))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_path_normalises_and_keeps_the_query() {
        assert_eq!(
            split_path("some/path?q=1").unwrap(),
            ("/some/path".into(), Some("q=1".into()))
        );
        assert_eq!(split_path("/").unwrap(), ("/".into(), None));
        assert_eq!(split_path("/a b/é").unwrap().0, "/a%20b/%C3%A9");
        assert!(split_path("/x#y").is_err());
    }
}
