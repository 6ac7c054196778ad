//! An `https` client reads the platform's trust store once: its request client and its
//! WebSocket upgrade client share one TLS setup. The platform store here is one file
//! (`SSL_CERT_FILE`) holding the test CA alone, so the test also shows that the store is what
//! the client trusts for both kinds of traffic; `rustls-platform-verifier` logs each load
//! ("Loaded N CA root certificates from the system"), and the `log` records are counted.
//!
//! One test in its own binary: it changes the process's environment and installs the
//! process-wide subscriber and `log` bridge.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::logs::Captured;
use common::{unique_key, within};
use rivet_core::{Client, ClientConfig, Encoding};
use rivet_test_support::tls_proxy::{TestCa, TlsProxy};
use rivet_test_support::TestServer;

/// What the verifier logs each time it loads the platform's trust store.
const STORE_LOADED: &str = "CA root certificates from the system";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_client_reads_the_trust_store_once_for_requests_and_websockets() {
    // The server first, so that nothing it starts sees the changed trust store.
    let server = TestServer::shared();
    let ca = TestCa::new();
    let proxy = TlsProxy::start(server.addr(), &ca);
    let store = std::env::temp_dir().join(format!("rivet-one-store-{}", std::process::id()));
    std::fs::create_dir_all(&store).unwrap();
    std::fs::write(store.join("bundle.pem"), ca.cert_pem()).unwrap();
    std::env::set_var("SSL_CERT_FILE", store.join("bundle.pem"));
    std::env::set_var("SSL_CERT_DIR", store.join("no-such-dir"));

    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(captured.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    tracing_log::LogTracer::init_with_filter(tracing_log::log::LevelFilter::Debug).unwrap();

    // No root added: the platform's store (the test CA alone) is all the client trusts.
    let client = Client::from_config(
        ClientConfig::builder()
            .endpoint(proxy.endpoint())
            .encoding(Encoding::Json)
            .build()
            .unwrap(),
    )
    .unwrap();
    let counter = client.get_or_create("counter", unique_key("one-store"));
    let n: i64 = within(90, "https action", counter.action("increment", (1,)))
        .await
        .unwrap();
    assert_eq!(n, 1);
    let connection = counter.connect().unwrap();
    within(90, "wss connection", connection.ready())
        .await
        .unwrap();
    let n: i64 = within(90, "action over wss", connection.action("increment", (1,)))
        .await
        .unwrap();
    assert_eq!(n, 2);
    connection.dispose().await;

    let logs = captured.text();
    let loads: Vec<&str> = logs.lines().filter(|l| l.contains(STORE_LOADED)).collect();
    assert_eq!(
        loads.len(),
        1,
        "the trust store was loaded {} times for one client:\n{}",
        loads.len(),
        loads.join("\n")
    );
    assert!(loads[0].contains("Loaded 1 CA root"), "{}", loads[0]);
    std::fs::remove_dir_all(&store).ok();
}
