//! Deciding what a failed attempt or a closed socket means: try again, or stop for good.

use crate::protocol::ErrorBody;
use crate::{Error, ServerError};

/// What the driver does next.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Next {
    /// Transient: back off and reconnect.
    Retry(Error),
    /// Permanent: stop with this error.
    Stop(Error),
}

/// Whether an error from opening a socket (before `Init`) is worth another attempt.
pub(crate) fn after_failed_open(err: Error, creates_actor: bool) -> Next {
    match &err {
        Error::Transport { .. }
        | Error::Timeout { .. }
        | Error::Disconnected { .. }
        | Error::Unavailable(_) => Next::Retry(err),
        Error::Http { status, .. } if *status >= 500 || *status == 408 || *status == 429 => {
            Next::Retry(err)
        }
        Error::NotFound(_) if creates_actor => Next::Retry(err),
        _ => Next::Stop(err),
    }
}

/// Classifies a socket that closed with `code`/`reason`, preceded by the connection-level
/// `Error` message `error` if the server sent one.
pub(crate) fn after_close(
    code: Option<u16>,
    reason: &str,
    error: Option<ErrorBody>,
    creates_actor: bool,
) -> Next {
    let server = match error {
        Some(body) => {
            let mut e = ServerError::from_body(body);
            e.ray_id = ServerError::from_close_reason(reason).and_then(|r| r.ray_id);
            Some(e)
        }
        None => ServerError::from_close_reason(reason),
    };
    if let Some(e) = server {
        return classify_server(e, creates_actor);
    }
    // Any other close of a socket the client did not close itself reconnects, like the JS
    // client: 1000 is an actor's `c.conn.disconnect()`, a draining server or a destroyed actor
    // (a `get` handle then stops at `actor.not_found` on the next attempt).
    Next::Retry(Error::Disconnected {
        code,
        reason: reason.to_owned(),
    })
}

fn classify_server(e: ServerError, creates_actor: bool) -> Next {
    if e.group == "user" || e.is("auth", "forbidden") {
        return Next::Stop(Error::Rejected(Box::new(e)));
    }
    // The server does not speak this encoding: every attempt would end the same way.
    if e.is("actor", "unsupported_websocket_encoding") {
        return Next::Stop(Error::Actor(Box::new(e)));
    }
    // The server refused one message (too large, malformed): that message's fault, not the
    // connection's. The actions in flight get this error; a new socket works.
    if e.is("message", "incoming_too_long") || e.is("actor", "invalid_request") {
        return Next::Retry(Error::Actor(Box::new(e)));
    }
    match e.into_error() {
        Error::NotFound(e) if !creates_actor => Next::Stop(Error::NotFound(e)),
        other => Next::Retry(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(group: &str, code: &str) -> ErrorBody {
        ErrorBody {
            group: group.into(),
            code: code.into(),
            message: "m".into(),
            metadata: None,
            action_id: None,
            actor: None,
        }
    }

    #[test]
    fn transient_closes_are_retried() {
        for (code, reason) in [
            (None, ""),
            (Some(1006), ""),
            (Some(1001), ""),
            (Some(1011), "guard.actor_wake_retries_exceeded#ray"),
            (Some(1011), "actor.stopped"),
            (Some(1011), "ws.going_away"),
            (Some(1000), "bye-reason"),
            (Some(1000), ""),
            (Some(1005), ""),
            (Some(1003), ""),
        ] {
            assert!(
                matches!(after_close(code, reason, None, true), Next::Retry(_)),
                "{code:?} {reason}"
            );
        }
    }

    #[test]
    fn rejections_and_protocol_errors_are_terminal() {
        let stop = after_close(
            Some(1011),
            "user.unauthorized",
            Some(body("user", "unauthorized")),
            true,
        );
        assert!(matches!(stop, Next::Stop(Error::Rejected(ref e)) if e.code == "unauthorized"));
        assert!(matches!(
            after_close(Some(1011), "auth.forbidden", None, true),
            Next::Stop(Error::Rejected(_))
        ));
        assert!(matches!(
            after_close(
                Some(1003),
                "actor.unsupported_websocket_encoding",
                None,
                true
            ),
            Next::Stop(Error::Actor(_))
        ));
    }

    #[test]
    fn a_refused_message_keeps_its_code_and_the_connection_reconnects() {
        for reason in ["message.incoming_too_long", "actor.invalid_request"] {
            let next = after_close(Some(1011), reason, None, false);
            let Next::Retry(err) = next else {
                panic!("{reason}: {next:?}");
            };
            assert_eq!(
                Some(reason),
                err.server()
                    .map(|e| format!("{}.{}", e.group, e.code))
                    .as_deref()
            );
        }
    }

    #[test]
    fn a_server_close_1000_reconnects_with_code_and_reason_kept() {
        assert_eq!(
            after_close(Some(1000), "bye-reason", None, false),
            Next::Retry(Error::Disconnected {
                code: Some(1000),
                reason: "bye-reason".into()
            })
        );
    }

    #[test]
    fn missing_actor_is_final_only_when_nothing_would_create_it() {
        assert!(matches!(
            after_close(Some(1011), "actor.not_found#r", None, false),
            Next::Stop(Error::NotFound(_))
        ));
        assert!(matches!(
            after_close(Some(1011), "actor.not_found#r", None, true),
            Next::Retry(Error::NotFound(_))
        ));
    }
}
