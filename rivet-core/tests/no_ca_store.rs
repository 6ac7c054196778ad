//! A machine without CA certificates (a minimal container image): `SSL_CERT_FILE` and
//! `SSL_CERT_DIR` point into an empty directory, so the platform's trust store is empty.
//! Plain `http` to a local engine must not need it at all; `https` must fail on its first call
//! with advice, and work once the engine's CA is added. A file of its own: it changes the
//! process's environment.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{unique_key, within};
use rivet_core::{Client, ClientConfig, Encoding, Error, TransportErrorKind};
use rivet_test_support::tls_proxy::{TestCa, TlsProxy};
use rivet_test_support::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_needs_no_ca_certificates_and_https_says_what_is_missing() {
    // The server first, so that nothing it starts sees the emptied trust store.
    let server = TestServer::shared();
    let empty = std::env::temp_dir().join(format!("rivet-no-ca-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    std::env::set_var("SSL_CERT_DIR", &empty);
    std::env::set_var("SSL_CERT_FILE", empty.join("no-bundle.pem"));

    // Plain http: stateless actions and a connection (the WebSocket upgrade has a client of
    // its own) work without a single CA certificate on the machine.
    let client = Client::from_config(
        ClientConfig::builder()
            .endpoint(server.endpoint())
            .encoding(Encoding::Json)
            .build()
            .unwrap(),
    )
    .expect("a client of a plain http endpoint needs no trust store");
    let counter = client.get_or_create("counter", unique_key("no-ca"));
    let n: i64 = within(90, "stateless action", counter.action("increment", (1,)))
        .await
        .unwrap();
    assert_eq!(n, 1);
    let connection = counter.connect().unwrap();
    within(90, "connection", connection.ready()).await.unwrap();
    let n: i64 = within(
        90,
        "connection action",
        connection.action("increment", (1,)),
    )
    .await
    .unwrap();
    assert_eq!(n, 2);
    connection.dispose().await;

    // https with only the (empty) platform store: the first call fails, typed, with advice.
    let ca = TestCa::new();
    let proxy = TlsProxy::start(server.addr(), &ca);
    let untrusting = Client::new(proxy.endpoint()).expect("building a client reads no trust store");
    let err = within(
        90,
        "https action without a trust store",
        untrusting
            .get_or_create("counter", unique_key("no-ca-tls"))
            .action::<i64>("increment", (1,)),
    )
    .await
    .unwrap_err();
    match &err {
        Error::Transport { kind, message, .. } => {
            assert_eq!(*kind, TransportErrorKind::Tls, "{err}");
            assert!(message.contains("ca-certificates"), "{err}");
        }
        other => panic!("expected a TLS transport error, got {other:?}"),
    }

    // The engine's CA added: https works without the platform's certificates.
    let trusting = Client::from_config(
        ClientConfig::builder()
            .endpoint(proxy.endpoint())
            .add_root_certificate(ca.cert_pem())
            .build()
            .unwrap(),
    )
    .unwrap();
    let n: i64 = within(
        90,
        "https action with the CA added",
        trusting
            .get_or_create("counter", unique_key("no-ca-tls"))
            .action("increment", (5,)),
    )
    .await
    .unwrap();
    assert_eq!(n, 5);
    std::fs::remove_dir_all(&empty).ok();
}
