//! Bytes and big integers from a browser page to a real RivetKit 2.3.19 server, in every
//! encoding, stateless and over a connection: `Bytes` arrives as a `Uint8Array`, `u64::MAX`,
//! `i64::MIN` and an `i128` beyond 2^64 as `bigint`, and all come back equal.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{client, unique_key, within};
use rivet_core::{Bytes, Encoding};
use serde_json::Value;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

type Args = (Bytes, u64, i64, i128, Option<u8>);

fn args() -> Args {
    (
        Bytes::from(vec![0u8, 1, 255]),
        u64::MAX,
        i64::MIN,
        (1i128 << 64) + 7,
        None,
    )
}

const TYPES: [&str; 5] = ["Uint8Array", "bigint", "bigint", "bigint", "null"];

#[wasm_bindgen_test]
async fn bytes_and_bigints_round_trip_in_every_encoding() {
    for encoding in Encoding::ALL {
        let handle = client(encoding).get_or_create("counter", unique_key("wire"));
        let types: Vec<String> = within(60, "types", handle.action("types", args()))
            .await
            .unwrap();
        assert_eq!(types, TYPES, "{encoding} stateless");
        let back: Args = handle.action("echo", args()).await.unwrap();
        assert_eq!(back, args(), "{encoding} stateless");
        let big: u128 = handle.action("bigint", ()).await.unwrap();
        assert_eq!(big, (1u128 << 64) + 5, "{encoding}");
        let bytes: Bytes = handle.action("bytes", ()).await.unwrap();
        assert_eq!(&bytes[..], &[1, 2, 3], "{encoding}");

        let conn = handle.connect().unwrap();
        within(60, "ready", conn.ready()).await.unwrap();
        let types: Vec<String> = conn.action("types", args()).await.unwrap();
        assert_eq!(types, TYPES, "{encoding} connection");
        let back: Args = conn.action("echo", args()).await.unwrap();
        assert_eq!(back, args(), "{encoding} connection");
        let err = conn.action::<(u64,)>("echo", ("x",)).await.unwrap_err();
        assert!(
            err.to_string().contains("expected (u64,)"),
            "{encoding}: {err}"
        );
        let _: Value = conn.action("echo", ()).await.unwrap();
    }
}
