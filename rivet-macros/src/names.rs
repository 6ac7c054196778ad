//! Rust names to wire names and constant names.

/// `send_message` → `sendMessage`; `ChatRoom` → `chatRoom`.
pub fn lower_camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper_next = false;
    for (i, c) in name.chars().enumerate() {
        if c == '_' {
            upper_next = !out.is_empty();
        } else if upper_next {
            out.extend(c.to_uppercase());
            upper_next = false;
        } else if i == 0 || out.is_empty() {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `send_message` → `SEND_MESSAGE`.
pub fn screaming_snake(name: &str) -> String {
    name.to_uppercase()
}

/// Method names of the typed handle and connection (and what they dereference to, and the
/// hooks): an action with one of these names would be hidden by, or hide, that method.
pub const RESERVED_METHODS: &[&str] = &[
    // typed::Handle / typed::Connection
    "call",
    "call_with",
    "call_with_timeout",
    "connect",
    "connect_with",
    "events",
    "from_untyped",
    "into_untyped",
    "on",
    "once",
    "send",
    "send_and_wait",
    "untyped",
    "with_params",
    // ActorHandle
    "action",
    "action_value",
    "action_with",
    "fetch",
    "key",
    "name",
    "params",
    "resolve",
    "skip_ready_wait",
    "websocket",
    "with_skip_ready_wait",
    // ActorConnection
    "action_with_timeout",
    "actor_id",
    "actor_name",
    "connection_id",
    "dispose",
    "is_connected",
    "listener_count",
    "observable_state",
    "on_close",
    "on_error",
    "on_open",
    "on_status_change",
    "ready",
    "reconnect",
    "state",
    "states",
    "status",
    // hooks
    "connection",
    "error",
    "latest",
    // std
    "clone",
    "deref",
    "fmt",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_are_lower_camel_case() {
        assert_eq!(lower_camel("send_message"), "sendMessage");
        assert_eq!(lower_camel("increment"), "increment");
        assert_eq!(lower_camel("get_count_2"), "getCount2");
        assert_eq!(lower_camel("ChatRoom"), "chatRoom");
        assert_eq!(lower_camel("_private"), "private");
    }

    #[test]
    fn constants_are_screaming_snake_case() {
        assert_eq!(screaming_snake("new_count"), "NEW_COUNT");
    }
}
