//! Parsing of the endpoint URL with the platform's WHATWG URL parser: the `url` crate on native,
//! the browser's own `URL` in wasm32 (the `url` crate's IDNA tables would add about 100 KB to
//! every web bundle for a parser the browser already has).

/// The parts of an endpoint URL that the configuration checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EndpointUrl {
    /// The scheme without its `:`, lower-cased (`http`).
    pub scheme: String,
    /// The user name as written (still percent-encoded); empty when absent.
    pub username: String,
    /// The password as written (still percent-encoded); empty when absent.
    pub password: String,
    /// Whether the URL has a query (`?…`), even an empty one.
    pub has_query: bool,
    /// Whether the URL has a fragment (`#…`), even an empty one.
    pub has_fragment: bool,
    /// The normalised URL without user name and password.
    pub without_credentials: String,
}

/// Parses `raw` as an absolute URL; the error is the parser's own message.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn parse(raw: &str) -> Result<EndpointUrl, String> {
    let mut url = url::Url::parse(raw).map_err(|e| e.to_string())?;
    let scheme = url.scheme().to_owned();
    let username = url.username().to_owned();
    let password = url.password().unwrap_or_default().to_owned();
    let has_query = url.query().is_some();
    let has_fragment = url.fragment().is_some();
    // Clearing the credentials of a URL that has a host cannot fail; one without a host has
    // none to clear.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Ok(EndpointUrl {
        scheme,
        username,
        password,
        has_query,
        has_fragment,
        without_credentials: url.into(),
    })
}

/// Parses `raw` as an absolute URL; the error is the parser's own message.
#[cfg(target_arch = "wasm32")]
pub(crate) fn parse(raw: &str) -> Result<EndpointUrl, String> {
    let url = web_sys::Url::new(raw).map_err(|e| {
        js_sys::Error::from(e)
            .message()
            .as_string()
            .unwrap_or_else(|| "invalid URL".to_owned())
    })?;
    let href = url.href();
    // `search()` and `hash()` are empty both for "no query" and for "empty query"; the
    // serialisation tells them apart: after parsing, `?` and `#` appear nowhere else in it
    // (they are percent-encoded in credentials, host and path).
    let before_fragment = href.split('#').next().unwrap_or_default();
    let has_query = before_fragment.contains('?');
    let has_fragment = href.contains('#');
    let scheme = url.protocol().trim_end_matches(':').to_owned();
    let (username, password) = (url.username(), url.password());
    url.set_username("");
    url.set_password("");
    Ok(EndpointUrl {
        scheme,
        username,
        password,
        has_query,
        has_fragment,
        without_credentials: url.href(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_credentials_off_and_normalises() {
        let parts = parse("HTTPS://ns%20x:tok%2Fen@API.example.com:443/base/").unwrap();
        assert_eq!(parts.scheme, "https");
        assert_eq!(parts.username, "ns%20x");
        assert_eq!(parts.password, "tok%2Fen");
        assert!(!parts.has_query && !parts.has_fragment);
        assert_eq!(parts.without_credentials, "https://api.example.com/base/");
    }

    #[test]
    fn sees_empty_query_and_fragment() {
        assert!(parse("http://h/?").unwrap().has_query);
        assert!(parse("http://h/#").unwrap().has_fragment);
        assert!(!parse("http://h/#?").unwrap().has_query);
    }

    #[test]
    fn rejects_what_is_not_a_url() {
        assert!(parse("nope").is_err());
        assert!(parse("http://").is_err());
    }
}
