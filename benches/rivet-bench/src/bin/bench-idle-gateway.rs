//! An idle RivetKit-speaking gateway for the `idle_memory` figure at large N
//! (`rivet-bench --idle-gateway`): the in-process hostile gateway of `rivet-test-support`, run
//! as its own process so that its memory is not the contender's. Every WebSocket is accepted
//! (subprotocol `rivet`), gets `Init` in the client's encoding, and then has every action
//! answered with `0` (the contenders' warm-up `getCount`); pings are answered by the socket.
//! `GET /metadata` is answered as the local engine does (`{"runtime":"engine","version":…}`,
//! nothing to switch to: the JS client retries until it gets an answer), other HTTP requests
//! `404`.
//!
//! Prints `http://127.0.0.1:PORT` on its first stdout line, then serves until its stdin
//! closes (the harness holds the pipe and drops it at the end of the figure).

use std::io::Read;

use rivet_test_support::hostile::{HostileGateway, Incoming};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// The gateway's read buffer per socket: the client side is what is measured, but 10,000
/// sockets with tungstenite's default 128 KiB would cost this process 1.3 GB.
const READ_BUFFER_BYTES: usize = 4 * 1024;

fn main() {
    let gateway = HostileGateway::start_with_metadata(|incoming| async move {
        match incoming {
            Incoming::WebSocket(upgrade) => {
                let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES);
                let mut socket = upgrade.accept_with(config).await;
                socket.send_init().await;
                socket
                    .serve_actions(|_, _| serde_json::Value::from(0))
                    .await;
            }
            Incoming::Http(request) if request.path().starts_with("/metadata") => {
                request
                    .respond(
                        200,
                        &[("content-type", "application/json")],
                        r#"{"runtime":"engine","version":"2.3.19"}"#,
                    )
                    .await;
            }
            Incoming::Http(request) => {
                request
                    .respond(404, &[("content-type", "text/plain")], "not here")
                    .await;
            }
        }
    });
    println!("{}", gateway.endpoint());
    // Serve until the harness closes our stdin (or goes away).
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    drop(gateway);
}
