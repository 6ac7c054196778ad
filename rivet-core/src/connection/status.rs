//! What a connection is doing, as an observable value.

use std::time::Duration;

use crate::Error;

/// The connection's phase, as in the JS client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ConnStatus {
    /// Not connected and not trying: before the first attempt, after `dispose`, or after a
    /// terminal error (see [`ConnectionState::terminal`]).
    #[default]
    Idle,
    /// Opening a socket and waiting for the server's `Init`.
    Connecting,
    /// `Init` received: actions and events flow.
    Connected,
    /// The socket dropped or an attempt failed; a retry is scheduled
    /// ([`ConnectionState::next_retry_in`]).
    Disconnected,
}

impl ConnStatus {
    /// The JS client's name for it: `"idle"`, `"connecting"`, `"connected"`, `"disconnected"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnStatus::Idle => "idle",
            ConnStatus::Connecting => "connecting",
            ConnStatus::Connected => "connected",
            ConnStatus::Disconnected => "disconnected",
        }
    }
}

impl std::fmt::Display for ConnStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything observable about a connection at one moment.
///
/// ```
/// let state = rivet_core::ConnectionState::default();
/// assert_eq!(state.status, rivet_core::ConnStatus::Idle);
/// assert!(!state.is_connected());
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct ConnectionState {
    /// The phase.
    pub status: ConnStatus,
    /// Which attempt is running or just failed since the last healthy connection (1-based;
    /// 0 before the first and while connected). A socket that drops before it proved
    /// healthy counts as a failed attempt (see [`ReconnectPolicy`](crate::ReconnectPolicy)).
    pub attempt: u32,
    /// The error that ended the last socket or attempt, a connection-level error the server
    /// reported while the socket stays open, or an event payload that a typed listener
    /// ([`typed::Connection::on`](crate::typed::Connection::on)) could not decode (set at
    /// once; the socket stays open); `None` after each `Init`.
    pub last_error: Option<Error>,
    /// When `Disconnected`: how long until the next attempt.
    pub next_retry_in: Option<Duration>,
    /// Whether the connection has stopped for good (terminal error or disposed); see
    /// [`ActorConnection::reconnect`](crate::ActorConnection::reconnect).
    pub terminal: bool,
    /// The actor id from the last `Init`.
    pub actor_id: Option<String>,
    /// The connection id from the last `Init` (new for every socket).
    pub connection_id: Option<String>,
}

impl ConnectionState {
    /// Whether actions can be sent right now.
    pub fn is_connected(&self) -> bool {
        self.status == ConnStatus::Connected
    }
}
