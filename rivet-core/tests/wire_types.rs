//! Typed payloads against a real RivetKit 2.3.19 server, in every encoding, stateless and over
//! a connection and for events: bytes travel as `Uint8Array`, wide integers as `bigint`, and a
//! mismatch names the action (or event), the actor and the expected type.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::OnceLock;

use common::{client, unique_key, within};
use futures::StreamExt;
use rivet_core::{ActorConnection, ActorHandle, Bytes, Encoding, Error};
use serde_json::Value;

/// What the test actor's `types(...args)` answers for these arguments.
type Args = (Bytes, u64, i64, i128, i128, Option<u8>, Vec<u32>);

fn args() -> Args {
    (
        Bytes::from(vec![0u8, 1, 2, 255]),
        u64::MAX,
        i64::MIN,
        (1i128 << 64) + 7,
        -(1i128 << 70),
        None,
        vec![1, 2],
    )
}

const TYPES: [&str; 7] = [
    "Uint8Array",
    "bigint",
    "bigint",
    "bigint",
    "bigint",
    "null",
    "array",
];

/// Stateless and connection calls, behind one signature.
enum Caller {
    Handle(ActorHandle),
    Conn(ActorConnection),
}

impl Caller {
    async fn call<R: serde::de::DeserializeOwned>(
        &self,
        action: &str,
        args: impl serde::Serialize,
    ) -> rivet_core::Result<R> {
        match self {
            Caller::Handle(h) => h.action(action, args).await,
            Caller::Conn(c) => c.action(action, args).await,
        }
    }
}

/// A connection to the file's actor for `handle`'s encoding. The actor is created first
/// through a (retried) stateless call, once, by one test at a time: a busy engine may time out
/// the first route to a new actor (a connection would then wait for its reconnect backoff),
/// and racing creations of one key can fail with `destroyed_during_creation`.
async fn connect(handle: &ActorHandle) -> ActorConnection {
    static CREATED: tokio::sync::Mutex<Vec<String>> = tokio::sync::Mutex::const_new(Vec::new());
    {
        let mut created = CREATED.lock().await;
        let key = format!("{:?}", handle.key());
        if !created.contains(&key) {
            let _: Value = within(120, "create", handle.action("echo", ()))
                .await
                .unwrap();
            created.push(key);
        }
    }
    let conn = handle.connect().unwrap();
    within(120, "ready", conn.ready()).await.unwrap();
    conn
}

/// One actor per encoding for the whole file: a busy engine is slow to place new actors.
fn actor(encoding: Encoding) -> ActorHandle {
    static KEYS: OnceLock<Vec<String>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        Encoding::ALL
            .iter()
            .map(|e| unique_key(&format!("wire-{e}")))
            .collect()
    });
    let index = Encoding::ALL.iter().position(|e| *e == encoding).unwrap();
    client(encoding).get_or_create("counter", keys[index].as_str())
}

async fn callers(encoding: Encoding) -> Vec<(&'static str, Caller)> {
    let handle = actor(encoding);
    let conn = connect(&handle).await;
    vec![
        ("stateless", Caller::Handle(handle)),
        ("connection", Caller::Conn(conn)),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_and_wide_integers_arrive_as_uint8array_and_bigint_and_come_back_equal() {
    for encoding in Encoding::ALL {
        for (how, caller) in callers(encoding).await {
            let types: Vec<String> = within(60, "types", caller.call("types", args()))
                .await
                .unwrap();
            assert_eq!(types, TYPES, "{encoding} {how}");
            let back: Args = within(60, "echo", caller.call("echo", args()))
                .await
                .unwrap();
            assert_eq!(back, args(), "{encoding} {how}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actor_bigints_and_uint8arrays_read_into_rust_types() {
    for encoding in Encoding::ALL {
        for (how, caller) in callers(encoding).await {
            let big: u128 = within(60, "bigint", caller.call("bigint", ()))
                .await
                .unwrap();
            assert_eq!(big, (1u128 << 64) + 5, "{encoding} {how}");
            let bytes: Bytes = within(60, "bytes", caller.call("bytes", ())).await.unwrap();
            assert_eq!(&bytes[..], &[1, 2, 3], "{encoding} {how}");
            // As JSON values: the digits, and an array of numbers (as before).
            let value: Value = caller.call("bigint", ()).await.unwrap();
            assert_eq!(
                value,
                Value::from("18446744073709551621"),
                "{encoding} {how}"
            );
            let value: Value = caller.call("bytes", ()).await.unwrap();
            assert_eq!(value, serde_json::json!([1, 2, 3]), "{encoding} {how}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mismatch_names_the_action_the_actor_and_the_expected_type() {
    for encoding in Encoding::ALL {
        for (how, caller) in callers(encoding).await {
            let err = within(60, "echo", caller.call::<(i64,)>("echo", ("x",)))
                .await
                .unwrap_err();
            assert!(
                matches!(err, Error::Decode { .. }),
                "{encoding} {how}: {err:?}"
            );
            let text = err.to_string();
            for needle in [
                "output of action echo on counter",
                "expected (i64,)",
                "\"x\"",
            ] {
                assert!(
                    text.contains(needle),
                    "{encoding} {how}: {needle} in {text}"
                );
            }
            let err = caller.call::<u64>("bigint", ()).await.unwrap_err();
            assert!(
                err.to_string().contains("18446744073709551621"),
                "{encoding} {how}: {err}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_carry_bytes_and_bigints_and_name_their_type_on_mismatch() {
    for encoding in Encoding::ALL {
        let handle = actor(encoding);
        let conn = connect(&handle).await;
        let mut events = conn.events("typed");
        let (b, u, i, w, n, none, v) = args();
        let _: Value = within(
            60,
            "broadcast",
            conn.action("broadcast", ("typed", b, u, i, w, n, none, v)),
        )
        .await
        .unwrap();
        let event = within(30, "event", events.next()).await.unwrap();
        let all: Args = event.args_as().unwrap();
        assert_eq!(all, args(), "{encoding}");
        assert_eq!(event.arg::<Bytes>(0).unwrap(), args().0, "{encoding}");
        assert_eq!(event.arg::<u64>(1).unwrap(), u64::MAX, "{encoding}");
        assert_eq!(
            event.arg::<i128>(3).unwrap(),
            (1i128 << 64) + 7,
            "{encoding}"
        );
        assert_eq!(event.arg::<Option<u8>>(5).unwrap(), None, "{encoding}");
        assert_eq!(event.arg::<Vec<u32>>(6).unwrap(), vec![1, 2], "{encoding}");
        let err = event.arg::<String>(1).unwrap_err();
        let text = err.to_string();
        for needle in [
            "argument 1 of event typed on counter",
            "expected alloc::string::String",
        ] {
            assert!(text.contains(needle), "{encoding}: {needle} in {text}");
        }
    }
}
