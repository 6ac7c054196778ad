//! Helpers on the reply to a queue send.

use serde::de::DeserializeOwned;

use crate::{Error, QueueSendResponse, Result};

impl QueueSendResponse {
    /// Whether the actor completed the message before the wait ran out.
    ///
    /// ```
    /// let reply = rivet_core::QueueSendResponse { status: "completed".into(), response: None };
    /// assert!(reply.is_completed());
    /// ```
    pub fn is_completed(&self) -> bool {
        self.status == "completed"
    }

    /// Whether the wait ran out before the actor completed the message.
    pub fn is_timed_out(&self) -> bool {
        self.status == "timedOut"
    }

    /// The completion value decoded as `T` (`null` when the actor gave none).
    ///
    /// ```
    /// let reply = rivet_core::QueueSendResponse {
    ///     status: "completed".into(),
    ///     response: Some(serde_json::json!({"done": 2})),
    /// };
    /// let value: serde_json::Value = reply.response_as()?;
    /// assert_eq!(value["done"], 2);
    /// # Ok::<(), rivet_core::Error>(())
    /// ```
    pub fn response_as<T: DeserializeOwned>(&self) -> Result<T> {
        let value = self.response.clone().unwrap_or(serde_json::Value::Null);
        serde_json::from_value(value).map_err(|e| {
            Error::decode(
                "queue completion value",
                format_args!("expected {}: {e}", std::any::type_name::<T>()),
            )
        })
    }
}
