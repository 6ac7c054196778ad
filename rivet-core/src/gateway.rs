//! Gateway URLs: how an actor is addressed on the wire (`docs/protocol.md` §2.1). Pure string work.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::config::ClientConfig;

/// The characters JavaScript's `encodeURIComponent` escapes.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// Percent-encodes like `encodeURIComponent`.
pub(crate) fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, URI_COMPONENT).to_string()
}

/// How the gateway should find the actor.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Route {
    /// `/gateway/{name}…?rvt-method=get&rvt-key=…`
    QueryGet { name: String, key_query: String },
    /// `/gateway/{name}…?rvt-method=getOrCreate&rvt-runner=…&rvt-key=…&rvt-input=…`
    QueryGetOrCreate {
        name: String,
        key_query: String,
        /// base64url (no padding) of the CBOR input.
        input: Option<String>,
        region: Option<String>,
    },
    /// `/gateway/{actorId}…`
    Direct { actor_id: String },
}

/// Builds the URL of `path` (starting with `/`, already percent-encoded) inside the actor,
/// followed by `user_query` (without `?`, already encoded) and the `rvt-*` parameters.
pub(crate) fn actor_url(
    config: &ClientConfig,
    route: &Route,
    path: &str,
    user_query: Option<&str>,
) -> String {
    let mut url = String::with_capacity(128);
    url.push_str(config.endpoint());
    url.push_str("/gateway/");
    let mut params: Vec<(&str, String)> = Vec::new();
    match route {
        Route::Direct { actor_id } => {
            url.push_str(&encode_component(actor_id));
            if let Some(token) = config.token() {
                url.push('@');
                url.push_str(&encode_component(token.expose()));
            }
        }
        Route::QueryGet { name, key_query } => {
            url.push_str(&encode_component(name));
            params.push(("rvt-namespace", config.namespace().to_owned()));
            params.push(("rvt-method", "get".to_owned()));
            if !key_query.is_empty() {
                params.push(("rvt-key", key_query.clone()));
            }
        }
        Route::QueryGetOrCreate {
            name,
            key_query,
            input,
            region,
        } => {
            url.push_str(&encode_component(name));
            params.push(("rvt-namespace", config.namespace().to_owned()));
            params.push(("rvt-method", "getOrCreate".to_owned()));
            params.push(("rvt-runner", config.pool().to_owned()));
            if !key_query.is_empty() {
                params.push(("rvt-key", key_query.clone()));
            }
            if let Some(input) = input {
                params.push(("rvt-input", input.clone()));
            }
            if let Some(region) = region {
                params.push(("rvt-region", region.clone()));
            }
            params.push(("rvt-crash-policy", "sleep".to_owned()));
        }
    }
    if !matches!(route, Route::Direct { .. }) {
        if let Some(token) = config.token() {
            params.push(("rvt-token", token.expose().to_owned()));
        }
    }
    url.push_str(path);
    let mut sep = '?';
    if let Some(query) = user_query.filter(|q| !q.is_empty()) {
        url.push('?');
        url.push_str(query);
        sep = '&';
    }
    for (name, value) in params {
        url.push(sep);
        url.push_str(name);
        url.push('=');
        url.push_str(&encode_component(&value));
        sep = '&';
    }
    url
}

/// The WebSocket form of an `http(s)://` URL.
pub(crate) fn to_websocket_url(http_url: &str) -> String {
    if let Some(rest) = http_url.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = http_url.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        http_url.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ClientConfig {
        ClientConfig::new("http://127.0.0.1:6420").unwrap()
    }

    #[test]
    fn query_get_url_matches_the_js_client() {
        let route = Route::QueryGet {
            name: "counter".into(),
            key_query: "nope-x".into(),
        };
        assert_eq!(
            actor_url(&config(), &route, "/action/getCount", None),
            "http://127.0.0.1:6420/gateway/counter/action/getCount?rvt-namespace=default&rvt-method=get&rvt-key=nope-x"
        );
    }

    #[test]
    fn get_or_create_url_carries_pool_input_and_crash_policy() {
        let route = Route::QueryGetOrCreate {
            name: "counter".into(),
            key_query: "in-x".into(),
            input: Some("uQACZWhlbGxvZXdvcmxkYW4YKg".into()),
            region: None,
        };
        assert_eq!(
            actor_url(&config(), &route, "/connect", None),
            "http://127.0.0.1:6420/gateway/counter/connect?rvt-namespace=default&rvt-method=getOrCreate&rvt-runner=default&rvt-key=in-x&rvt-input=uQACZWhlbGxvZXdvcmxkYW4YKg&rvt-crash-policy=sleep"
        );
    }

    #[test]
    fn user_query_comes_first_and_keys_are_escaped() {
        let route = Route::QueryGetOrCreate {
            name: "counter".into(),
            key_query: "a b,c/d".into(),
            input: None,
            region: Some("default".into()),
        };
        let url = actor_url(&config(), &route, "/request/some/path", Some("q=1"));
        assert_eq!(
            url,
            "http://127.0.0.1:6420/gateway/counter/request/some/path?q=1&rvt-namespace=default&rvt-method=getOrCreate&rvt-runner=default&rvt-key=a%20b%2Cc%2Fd&rvt-region=default&rvt-crash-policy=sleep"
        );
    }

    #[test]
    fn direct_url_carries_the_token_after_at() {
        let config = ClientConfig::new("http://ns:tok@127.0.0.1:6420").unwrap();
        let route = Route::Direct {
            actor_id: "abc123".into(),
        };
        assert_eq!(
            actor_url(&config, &route, "/action/x", None),
            "http://127.0.0.1:6420/gateway/abc123@tok/action/x"
        );
        assert_eq!(
            to_websocket_url("https://h/gateway/x/connect"),
            "wss://h/gateway/x/connect"
        );
    }
}
