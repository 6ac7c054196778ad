//! The typed API (`#[rivet_core::actor]`) against a real RivetKit 2.3.19 server, in every
//! encoding: actions stateless and over a connection, events with one and several arguments,
//! params, create input, queues, positional arguments, and mismatch errors.

#![allow(missing_docs)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{client, eventually, unique_key, within};
use futures::StreamExt;
use rivet_core::typed::Handle;
use rivet_core::{ConnStatus, Encoding, Error};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Three {
    pub three: i64,
}

/// The test server's `counter` actor, as a Rust program sees it.
#[rivet_core::actor]
pub trait Counter {
    /// Adds `amount`; broadcasts `newCount`.
    fn increment(amount: i64) -> i64;
    fn get_count() -> i64;
    /// `echo(...args) => args`: what the actor received, positionally.
    fn echo(value: Option<i64>, list: Vec<i64>) -> (Option<i64>, Vec<i64>);
    #[action(name = "echo")]
    fn echo_nothing() -> Vec<i64>;
    /// `types(...args) => args.map(typeName)`.
    fn types(value: Option<i64>, list: Vec<i64>, text: String) -> Vec<String>;
    fn multi_arg_event() -> bool;
    #[action(name = "getCount")]
    fn get_count_as_text() -> String;
    #[action(name = "broadcast")]
    fn broadcast_text(event: String, text: String) -> bool;
    #[event]
    fn new_count(count: i64);
    #[event]
    fn multi(one: i64, two: String, three: Three);
    #[event(name = "newCount")]
    fn new_count_as_text(count: String);
    #[event(name = "text")]
    fn text_event(text: String);
}

#[derive(Debug, Clone, Serialize)]
pub struct ChatParams {
    pub token: String,
    pub user: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Entry {
    pub user: Option<String>,
    pub text: String,
}

#[rivet_core::actor(name = "chatRoom")]
pub trait Chat {
    type Params = ChatParams;
    fn send_message(text: String) -> Entry;
    fn get_history() -> Vec<Entry>;
    #[event(name = "message")]
    fn new_message(entry: Entry);
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub owner: String,
    pub pages: u32,
}

#[rivet_core::actor(name = "withInput")]
pub trait WithInput {
    type Input = Document;
    fn get_input() -> Option<Document>;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub n: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Done {
    pub done: Job,
}

#[rivet_core::actor(name = "worker")]
pub trait Worker {
    fn processed() -> u32;
    #[queue]
    fn jobs(job: Job) -> Done;
}

fn params(token: &str) -> ChatParams {
    ChatParams {
        token: token.to_owned(),
        user: "ada".to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_actions_work_stateless_and_over_a_connection_in_every_encoding() {
    for encoding in Encoding::ALL {
        let counter = client(encoding).get_or_create(Counter, unique_key(encoding.as_str()));
        let first = within(30, "increment", counter.increment(5)).await.unwrap();
        assert_eq!(first, 5, "{encoding}");
        assert_eq!(counter.get_count().await.unwrap(), 5, "{encoding}");

        let live = counter.connect().unwrap();
        within(30, "ready", live.ready()).await.unwrap();
        assert_eq!(live.increment(2).await.unwrap(), 7, "{encoding}");
        assert_eq!(live.get_count().await.unwrap(), 7, "{encoding}");
        live.dispose().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arguments_are_always_positional() {
    for encoding in Encoding::ALL {
        let counter = client(encoding).get_or_create(Counter, unique_key("positional"));
        // `None` is one `null` argument, a `Vec` is one argument (the untyped API spreads
        // neither a lone `None` nor a lone `Vec` this way).
        let echoed = counter.echo(None, vec![1, 2, 3]).await.unwrap();
        assert_eq!(echoed, (None, vec![1, 2, 3]), "{encoding}");
        let types = counter.types(None, vec![4], "x".to_owned()).await.unwrap();
        assert_eq!(types, ["null", "array", "string"], "{encoding}");
        assert!(
            counter.echo_nothing().await.unwrap().is_empty(),
            "{encoding}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_events_arrive_decoded_with_one_and_several_arguments() {
    for encoding in Encoding::ALL {
        let counter = client(encoding)
            .get_or_create(Counter, unique_key("events"))
            .connect()
            .unwrap();
        let counts = Arc::new(Mutex::new(Vec::new()));
        let seen = counts.clone();
        let _counts = counter.on(Counter::NEW_COUNT, move |n| seen.lock().unwrap().push(n));
        let mut multi = counter.events(Counter::MULTI);
        within(30, "ready", counter.ready()).await.unwrap();
        counter.increment(3).await.unwrap();
        counter.increment(4).await.unwrap();
        eventually(20, "two counts", || {
            let counts = counts.clone();
            async move { counts.lock().unwrap().len() == 2 }
        })
        .await;
        assert_eq!(*counts.lock().unwrap(), [3, 7], "{encoding}");

        counter.multi_arg_event().await.unwrap();
        let (one, two, three) = within(20, "multi", multi.next())
            .await
            .expect("stream open")
            .expect("payload decodes");
        assert_eq!(
            (one, two.as_str(), three),
            (1, "two", Three { three: 3 }),
            "{encoding}"
        );
        counter.dispose().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_params_reach_the_actor_and_wrong_ones_are_rejected() {
    for encoding in Encoding::ALL {
        let room = client(encoding).get_or_create(Chat, unique_key("chat"));
        let entry = room
            .with_params(&params("secret"))
            .unwrap()
            .send_message("hi".to_owned())
            .await
            .unwrap();
        assert_eq!(
            entry,
            Entry {
                user: Some("ada".to_owned()),
                text: "hi".to_owned()
            },
            "{encoding}"
        );

        let live = room
            .with_params(&params("secret"))
            .unwrap()
            .connect()
            .unwrap();
        let mut messages = live.events(Chat::NEW_MESSAGE);
        within(30, "ready", live.ready()).await.unwrap();
        live.send_message("over the socket".to_owned())
            .await
            .unwrap();
        let message = within(20, "message", messages.next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(message.text, "over the socket", "{encoding}");
        assert_eq!(live.get_history().await.unwrap().len(), 2, "{encoding}");
        live.dispose().await;

        let rejected = room
            .with_params(&params("wrong"))
            .unwrap()
            .connect()
            .unwrap();
        let error = within(30, "rejected ready", rejected.ready())
            .await
            .unwrap_err();
        assert_eq!(error.code(), Some("unauthorized"), "{encoding}: {error}");
        rejected.dispose().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_create_input_reaches_the_actor() {
    for encoding in Encoding::ALL {
        let client = client(encoding);
        let input = Document {
            owner: "ada".to_owned(),
            pages: 3,
        };
        let options = WithInput::input(&input).unwrap();
        let doc = client.get_or_create_with(WithInput, unique_key("input"), options.clone());
        assert_eq!(
            doc.get_input().await.unwrap(),
            Some(input.clone()),
            "{encoding}"
        );

        let created: Handle<WithInput> = client
            .create_with(WithInput, unique_key("created"), options)
            .await
            .unwrap();
        assert_eq!(
            created.get_input().await.unwrap(),
            Some(input),
            "{encoding}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_queue_messages_complete_with_typed_values() {
    for encoding in Encoding::ALL {
        let worker = client(encoding).get_or_create(Worker, unique_key("jobs"));
        worker.send(Worker::JOBS, &Job { n: 1 }).await.unwrap();
        let done = within(
            40,
            "send and wait",
            worker.send_and_wait(Worker::JOBS, &Job { n: 2 }, Duration::from_secs(20)),
        )
        .await
        .unwrap();
        assert_eq!(done, Some(Done { done: Job { n: 2 } }), "{encoding}");
        assert_eq!(worker.processed().await.unwrap(), 2, "{encoding}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mismatched_results_name_the_actor_the_action_and_the_type() {
    for encoding in Encoding::ALL {
        let counter = client(encoding).get_or_create(Counter, unique_key("mismatch"));
        counter.increment(1).await.unwrap();
        let error = counter.get_count_as_text().await.unwrap_err();
        let Error::Decode { .. } = &error else {
            panic!("{encoding}: expected a decode error, got {error:?}");
        };
        let text = error.to_string();
        for needle in ["getCount", "counter", "String"] {
            assert!(
                text.contains(needle),
                "{encoding}: {needle} missing in {text}"
            );
        }

        let live = counter.connect().unwrap();
        let error = live.get_count_as_text().await.unwrap_err();
        assert!(error.to_string().contains("String"), "{encoding}: {error}");
        live.dispose().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mismatched_event_payloads_go_to_on_error_and_the_stream() {
    for encoding in Encoding::ALL {
        let counter = client(encoding)
            .get_or_create(Counter, unique_key("event-mismatch"))
            .connect()
            .unwrap();
        let errors = Arc::new(Mutex::new(Vec::new()));
        let sink = errors.clone();
        let _errors = counter.on_error(move |e| sink.lock().unwrap().push(e.to_string()));
        let delivered = Arc::new(Mutex::new(0));
        let calls = delivered.clone();
        let _bad = counter.on(Counter::NEW_COUNT_AS_TEXT, move |_: String| {
            *calls.lock().unwrap() += 1;
        });
        let mut texts = counter.events(Counter::TEXT_EVENT);
        within(30, "ready", counter.ready()).await.unwrap();
        counter.increment(1).await.unwrap();
        eventually(20, "the decode error", || {
            let errors = errors.clone();
            async move { !errors.lock().unwrap().is_empty() }
        })
        .await;
        let error = errors.lock().unwrap()[0].clone();
        for needle in ["newCount", "String"] {
            assert!(
                error.contains(needle),
                "{encoding}: {needle} missing in {error}"
            );
        }
        assert_eq!(*delivered.lock().unwrap(), 0, "{encoding}");
        // The state shows it too (hooks read their `error` from there); the socket stays open.
        let state = counter.state();
        let last = state.last_error.map(|e| e.to_string()).unwrap_or_default();
        assert!(last.contains("newCount"), "{encoding}: last_error {last:?}");
        assert_eq!(state.status, ConnStatus::Connected, "{encoding}");

        // A stream yields the error as an item and goes on.
        counter
            .untyped()
            .action::<bool>("broadcast", ("text", 5))
            .await
            .unwrap();
        counter
            .broadcast_text("text".to_owned(), "fine".to_owned())
            .await
            .unwrap();
        let first = within(20, "bad item", texts.next()).await.unwrap();
        assert!(first.is_err(), "{encoding}: {first:?}");
        let second = within(20, "good item", texts.next()).await.unwrap();
        assert_eq!(second.unwrap(), "fine", "{encoding}");
        counter.dispose().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_and_untyped_handles_convert_only_for_the_same_actor() {
    let client = client(Encoding::Json);
    let untyped = client.get_or_create("counter", unique_key("convert"));
    let typed = Handle::<Counter>::from_untyped(untyped.clone()).unwrap();
    assert_eq!(typed.increment(1).await.unwrap(), 1);
    let error = Handle::<Chat>::from_untyped(untyped).unwrap_err();
    assert!(matches!(error, Error::InvalidInput { .. }), "{error:?}");
    let connection = typed.connect().unwrap().into_untyped();
    assert!(rivet_core::typed::Connection::<Chat>::from_untyped(connection.clone()).is_err());
    connection.dispose().await;
}
