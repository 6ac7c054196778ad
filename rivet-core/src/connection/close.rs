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
    let disconnected = Error::Disconnected {
        code,
        reason: reason.to_owned(),
    };
    match code {
        // Closed on purpose by the actor (`c.conn.disconnect()`) or because it was destroyed.
        Some(1000) => Next::Stop(disconnected),
        Some(1003) => Next::Stop(disconnected),
        _ => Next::Retry(disconnected),
    }
}

fn classify_server(e: ServerError, creates_actor: bool) -> Next {
    if e.group == "user" || e.is("auth", "forbidden") {
        return Next::Stop(Error::Rejected(Box::new(e)));
    }
    if e.is("actor", "invalid_request")
        || e.is("actor", "unsupported_websocket_encoding")
        || e.is("message", "incoming_too_long")
    {
        return Next::Stop(Error::Actor(Box::new(e)));
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
            after_close(Some(1011), "actor.invalid_request", None, true),
            Next::Stop(Error::Actor(_))
        ));
        assert!(matches!(
            after_close(Some(1000), "bye-reason", None, true),
            Next::Stop(Error::Disconnected {
                code: Some(1000),
                ..
            })
        ));
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
