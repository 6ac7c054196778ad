//! [`ClientInner`]: what every handle and connection of one client shares (settings, HTTP
//! client, live connections, metadata lookup). The layers above reach the network through it.

use std::sync::Arc;

use crate::config::ClientConfig;
use crate::metadata::Metadata;
use crate::tracker::Connections;
use crate::transport::HttpClient;
use crate::Result;

/// What every handle of a client shares.
#[derive(Debug)]
pub(crate) struct ClientInner {
    config: ClientConfig,
    http: HttpClient,
    connections: Arc<Connections>,
    metadata: Metadata,
}

impl ClientInner {
    /// The state of a new client: no connection yet, nothing looked up yet.
    pub(crate) fn new(config: ClientConfig, http: HttpClient) -> Self {
        Self {
            config,
            http,
            connections: Arc::default(),
            metadata: Metadata::default(),
        }
    }

    /// The config requests use: the configured one, or the one the metadata lookup switched
    /// to once it did.
    pub(crate) fn config(&self) -> &ClientConfig {
        self.metadata.switched().unwrap_or(&self.config)
    }

    /// Runs the metadata lookup unless it already happened (see [`crate::metadata`]); every
    /// request path calls it before reading [`Self::config`]. Waits at most the request
    /// timeout; calls with a shorter deadline bound it further.
    pub(crate) async fn ensure_metadata(&self) -> Result<()> {
        self.metadata
            .ensure(&self.config, &self.http, self.config.request_timeout())
            .await
    }

    pub(crate) fn http(&self) -> &HttpClient {
        &self.http
    }

    pub(crate) fn connections(&self) -> &Arc<Connections> {
        &self.connections
    }
}
