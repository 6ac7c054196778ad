//! The typed API (`#[rivet_core::actor]`) in the browser against a real RivetKit 2.3.19
//! server: actions stateless and over a connection, typed events, positional arguments and
//! mismatch errors, in every encoding.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{client, eventually, unique_key, within};
use futures::StreamExt;
use rivet_core::{Encoding, Error};
use serde::Deserialize;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Three {
    pub three: i64,
}

#[rivet_core::actor]
pub trait Counter {
    fn increment(amount: i64) -> i64;
    fn get_count() -> i64;
    fn echo(value: Option<i64>, list: Vec<i64>) -> (Option<i64>, Vec<i64>);
    fn multi_arg_event() -> bool;
    #[action(name = "getCount")]
    fn get_count_as_text() -> String;
    #[event]
    fn new_count(count: i64);
    #[event]
    fn multi(one: i64, two: String, three: Three);
}

#[wasm_bindgen_test]
async fn typed_actions_and_events_in_every_encoding() {
    for encoding in Encoding::ALL {
        let counter = client(encoding).get_or_create(Counter, unique_key("typed"));
        assert_eq!(
            within(30, "increment", counter.increment(2)).await.unwrap(),
            2
        );
        assert_eq!(
            counter.echo(None, vec![1, 2]).await.unwrap(),
            (None, vec![1, 2]),
            "{encoding}"
        );

        let live = counter.connect().unwrap();
        let seen = Rc::new(RefCell::new(Vec::new()));
        let sink = seen.clone();
        let _counts = live.on(Counter::NEW_COUNT, move |n| sink.borrow_mut().push(n));
        let mut multi = live.events(Counter::MULTI);
        within(30, "ready", live.ready()).await.unwrap();
        assert_eq!(live.increment(3).await.unwrap(), 5, "{encoding}");
        eventually(10, "the typed event", || {
            let seen = seen.clone();
            async move { *seen.borrow() == vec![5] }
        })
        .await;
        live.multi_arg_event().await.unwrap();
        let (one, two, three) = within(10, "multi", multi.next()).await.unwrap().unwrap();
        assert_eq!((one, two.as_str(), three), (1, "two", Three { three: 3 }));

        let error = live.get_count_as_text().await.unwrap_err();
        assert!(
            matches!(error, Error::Decode { .. }),
            "{encoding}: {error:?}"
        );
        assert!(error.to_string().contains("String"), "{encoding}: {error}");
        live.dispose().await;
    }
}
