//! Stateless HTTP calls against a real RivetKit 2.3.19 server, in every encoding.

mod common;

use std::time::Duration;

use common::{client, client_without_retries, unique_key, within};
use rivet_core::{
    ActionOptions, ActorKey, Client, CreateOptions, Encoding, Error, RawRequest, TransportErrorKind,
};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn increments_and_reads_a_counter_in_every_encoding() {
    for encoding in Encoding::ALL {
        let client = client(encoding);
        let counter = client.get_or_create("counter", unique_key(encoding.as_str()));
        let a: i64 = within(30, "increment", counter.action("increment", (5,)))
            .await
            .unwrap();
        let b: i64 = counter.action("increment", (2,)).await.unwrap();
        let count: i64 = counter.action("getCount", ()).await.unwrap();
        assert_eq!((a, b, count), (5, 7, 7), "{encoding}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arguments_and_results_round_trip_with_compat_tags() {
    for encoding in Encoding::ALL {
        let counter = client(encoding).get_or_create("counter", unique_key("types"));
        let echoed: Value = counter
            .action(
                "echo",
                (
                    1,
                    "two",
                    json!({"three": [3.5, null, true]}),
                    json!(["$x", 1]),
                ),
            )
            .await
            .unwrap();
        assert_eq!(
            echoed,
            json!([1, "two", {"three": [3.5, null, true]}, ["$x", 1]]),
            "{encoding}"
        );
        // A 2-element array starting with "$" must reach the actor as an array, not a tag.
        let types: Vec<String> = counter
            .action("types", (json!(["$x", 1]), 9007199254740993u64))
            .await
            .unwrap();
        assert_eq!(types[0], "array", "{encoding}");
        assert_eq!(
            types[1], "bigint",
            "{encoding}: integers beyond 2^53 travel as bigint"
        );
        let big: Value = counter.action("bigint", ()).await.unwrap();
        assert_eq!(
            big,
            json!("18446744073709551621"),
            "{encoding}: 2^64+5 does not fit a u64"
        );
        let bytes: Vec<u8> = counter.action("bytes", ()).await.unwrap();
        assert_eq!(bytes, vec![1, 2, 3], "{encoding}");
        let unicode: String = counter
            .action("echo", ("zoë 日本 🎉",))
            .await
            .map(|v: Vec<String>| v[0].clone())
            .unwrap();
        assert_eq!(unicode, "zoë 日本 🎉");
    }
}

/// Awkward doubles: large and tiny exponents, subnormals, the shortest forms that need all 17
/// digits.
const FLOATS: [f64; 7] = [
    9.902692988547747e299,
    0.1 + 0.2,
    1.0 / 3.0,
    -2.2250738585072014e-308,
    5e-324,
    f64::MAX,
    1.2345678901234567e-300,
];

fn assert_same_bits(sent: &[f64], back: &[f64], what: &str) {
    assert_eq!(sent.len(), back.len(), "{what}");
    for (sent, back) in sent.iter().zip(back) {
        assert_eq!(
            sent.to_bits(),
            back.to_bits(),
            "{what}: {sent:e} came back as {back:e}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floats_round_trip_bit_for_bit_in_every_encoding() {
    // Into the actor as its CBOR create input (exact), out in every encoding: what the client
    // reads is exactly what the server wrote.
    let key = unique_key("floats");
    let options = CreateOptions::new().input(&FLOATS).unwrap();
    let stored: Vec<f64> = client(Encoding::Cbor)
        .get_or_create_with("withInput", key.clone(), options)
        .action("getInput", ())
        .await
        .unwrap();
    assert_same_bits(&FLOATS, &stored, "cbor input");
    for encoding in Encoding::ALL {
        let reader = client(encoding).get("withInput", key.clone());
        let back: Vec<f64> = reader.action("getInput", ()).await.unwrap();
        assert_same_bits(&FLOATS, &back, &format!("{encoding} output"));
        // Over a connection too (the same decoders read WebSocket messages).
        let connection = reader.connect().unwrap();
        let back: Vec<f64> = within(30, "getInput", connection.action("getInput", ()))
            .await
            .unwrap();
        assert_same_bits(&FLOATS, &back, &format!("{encoding} over WebSocket"));
        connection.dispose().await;
    }
    // Both ways through the actor. The 2.3.19 server parses JSON requests with a fast float
    // parser that is off by an ulp or two for some values (`9.902692988547747e299` arrives
    // as `9.90269298854775e299`), so JSON is checked on the way out only (above).
    for encoding in [Encoding::Cbor, Encoding::Bare] {
        let counter = client(encoding).get_or_create("counter", unique_key("echo-floats"));
        let echoed: Vec<f64> = counter.action("echo", FLOATS).await.unwrap();
        assert_same_bits(&FLOATS, &echoed, &format!("{encoding} echo"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_errors_carry_group_code_message_metadata_and_actor() {
    for encoding in Encoding::ALL {
        let counter = client(encoding).get_or_create("counter", unique_key("err"));
        let err = counter.action::<Value>("boom", ()).await.unwrap_err();
        let Error::Actor(server) = &err else {
            panic!("{encoding}: {err:?}")
        };
        assert_eq!(
            (server.group.as_str(), server.code.as_str()),
            ("user", "boom_code")
        );
        assert_eq!(server.message, "boom happened");
        assert_eq!(
            server.metadata,
            Some(json!({"a": 1, "b": "two"})),
            "{encoding}"
        );
        assert_eq!(server.status, Some(500));
        assert!(
            server
                .actor
                .as_ref()
                .is_some_and(|a| !a.actor_id.is_empty()),
            "{encoding}"
        );
        assert!(!err.is_retryable());
        assert_eq!(err.metadata(), Some(&json!({"a": 1, "b": "two"})));

        let err = counter.action::<Value>("boomPlain", ()).await.unwrap_err();
        assert_eq!(err.code(), Some("user_error"), "{encoding}");
        let err = counter.action::<Value>("crash", ()).await.unwrap_err();
        assert_eq!(
            (err.group(), err.code()),
            (Some("rivetkit"), Some("internal_error")),
            "{encoding}"
        );
        let err = counter.action::<Value>("nope", ()).await.unwrap_err();
        assert_eq!(err.code(), Some("action_not_found"), "{encoding}: {err}");
        assert!(
            err.to_string().contains("nope"),
            "the message names the action: {err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_of_a_missing_actor_is_not_found_in_every_encoding() {
    for encoding in Encoding::ALL {
        let missing = client_without_retries(encoding).get("counter", unique_key("missing"));
        let err = within(30, "get", missing.action::<Value>("getCount", ()))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::NotFound(_)),
            "{encoding}: gateway errors are JSON whatever the encoding: {err:?}"
        );
        let err = missing.resolve().await.unwrap_err();
        assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_retries_until_another_client_creates_the_actor() {
    let client = client(Encoding::Bare);
    let key = unique_key("late");
    let waiting = client.get("counter", key.as_str());
    let creator = client.get_or_create("counter", key.as_str());
    let call = tokio::spawn(async move { waiting.action::<i64>("getCount", ()).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _: i64 = creator.action("increment", (3,)).await.unwrap();
    // The waiting `get` may land between the creation and the increment: it must find the
    // actor either way (not fail with not_found).
    let count = within(30, "get", call).await.unwrap().unwrap();
    assert!(count == 0 || count == 3, "{count}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_passes_input_and_refuses_a_duplicate_key() {
    for encoding in Encoding::ALL {
        let client = client(encoding);
        let key = unique_key("create");
        let options = CreateOptions::new()
            .input(&json!({"hello": "world", "n": 42}))
            .unwrap();
        let created = client
            .create_with("withInput", key.as_str(), options)
            .await
            .unwrap();
        let input: Value = created.action("getInput", ()).await.unwrap();
        assert_eq!(input, json!({"hello": "world", "n": 42}), "{encoding}");
        let err = client.create("withInput", key.as_str()).await.unwrap_err();
        assert_eq!(err.code(), Some("duplicate_key"), "{encoding}: {err}");

        let id = created.resolve().await.unwrap();
        let by_id = client.get_for_id("withInput", &id);
        let again: Value = by_id.action("getInput", ()).await.unwrap();
        assert_eq!(again, input);
        let by_key = client.get("withInput", key.as_str());
        assert_eq!(by_key.resolve().await.unwrap(), id);
        assert_eq!(
            client
                .get_or_create("withInput", key.as_str())
                .resolve()
                .await
                .unwrap(),
            id
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_or_create_input_is_used_once_and_large_inputs_go_through_rest() {
    let client = client(Encoding::Cbor);
    let key = unique_key("goc");
    let first = client.get_or_create_with(
        "withInput",
        key.as_str(),
        CreateOptions::new()
            .input(&json!({"v": 1}))
            .unwrap()
            .region("default"),
    );
    let input: Value = first.action("getInput", ()).await.unwrap();
    assert_eq!(input, json!({"v": 1}));
    let second = client.get_or_create_with(
        "withInput",
        key.as_str(),
        CreateOptions::new().input(&json!({"v": 2})).unwrap(),
    );
    assert_eq!(
        second.action::<Value>("getInput", ()).await.unwrap(),
        json!({"v": 1})
    );

    let big = "x".repeat(10_000);
    let large = client.get_or_create_with(
        "withInput",
        unique_key("big-input"),
        CreateOptions::new().input(&json!({"big": big})).unwrap(),
    );
    let got: Value = large.action("getInput", ()).await.unwrap();
    assert_eq!(got["big"].as_str().map(str::len), Some(10_000));

    let err = client
        .get_or_create_with(
            "withInput",
            unique_key("mars"),
            CreateOptions::new().region("mars"),
        )
        .action::<Value>("getInput", ())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("not_found"), "unknown region: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_with_commas_and_the_empty_part_reach_the_right_actor() {
    for encoding in Encoding::ALL {
        let client = client(encoding);
        let base = unique_key("comma");
        let comma = ActorKey::new([base.as_str(), "d,e"]);
        let split = ActorKey::new([base.as_str(), "d", "e"]);
        let _: i64 = client
            .get_or_create("withInput", comma.clone())
            .action("getKey", ())
            .await
            .map(|_: Value| 0)
            .unwrap();
        let seen: Value = client
            .get_or_create("withInput", comma.clone())
            .action("getKey", ())
            .await
            .unwrap();
        assert_eq!(
            seen,
            json!([base, "d,e"]),
            "{encoding}: the actor sees the key it was given"
        );
        let other: Value = client
            .get_or_create("withInput", split.clone())
            .action("getKey", ())
            .await
            .unwrap();
        assert_eq!(other, json!([base, "d", "e"]));
        let a = client
            .get("withInput", comma.clone())
            .resolve()
            .await
            .unwrap();
        let b = client.get("withInput", split).resolve().await.unwrap();
        assert_ne!(
            a, b,
            "{encoding}: [\"d,e\"] and [\"d\",\"e\"] are different actors"
        );
        let via_get: Value = client
            .get("withInput", comma)
            .action("getKey", ())
            .await
            .unwrap();
        assert_eq!(via_get, json!([base, "d,e"]));
    }
    let client = client(Encoding::Bare);
    let empty_part: Value = client
        .get_or_create("withInput", [""])
        .action("getKey", ())
        .await
        .unwrap();
    assert_eq!(
        empty_part,
        json!([""]),
        "the key [\"\"] is not the empty key"
    );
    let empty: Value = client
        .get_or_create("withInput", ())
        .action("getKey", ())
        .await
        .unwrap();
    assert_eq!(empty, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_params_reach_the_actor_and_bad_ones_are_rejected() {
    for encoding in Encoding::ALL {
        let client = client(encoding);
        let room = client.get_or_create("chatRoom", unique_key("params"));
        let ok = room
            .with_params(&json!({"token": "secret", "user": "zoë 日本"}))
            .unwrap();
        let entry: Value = ok.action("sendMessage", ("hi",)).await.unwrap();
        assert_eq!(
            entry["user"], "zoë 日本",
            "{encoding}: non-ASCII params survive the header"
        );
        let bad = room.with_params(&json!({"token": "wrong"})).unwrap();
        let err = bad.action::<Value>("getHistory", ()).await.unwrap_err();
        assert_eq!(
            (err.group(), err.code()),
            (Some("user"), Some("unauthorized")),
            "{encoding}: {err}"
        );
        assert_eq!(err.metadata(), Some(&json!({"got": "wrong"})));
        let err = room.action::<Value>("getHistory", ()).await.unwrap_err();
        assert_eq!(err.code(), Some("unauthorized"), "no params at all");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_requests_and_responses_fail_with_the_servers_codes() {
    for encoding in Encoding::ALL {
        let counter = client(encoding).get_or_create("counter", unique_key("size"));
        let err = counter
            .action::<Value>("echo", ("y".repeat(70_000),))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("incoming_too_long"), "{encoding}: {err}");
        let err = counter
            .action::<Value>("big", (1_100_000,))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("outgoing_too_long"), "{encoding}: {err}");
        let ok: String = counter.action("big", (500_000,)).await.unwrap();
        assert_eq!(ok.len(), 500_000);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_have_deadlines() {
    let counter = client(Encoding::Bare).get_or_create("counter", unique_key("slow"));
    let started = std::time::Instant::now();
    let err = counter
        .action_with::<Value>(
            "slow",
            (3000,),
            ActionOptions::new().timeout(Duration::from_millis(300)),
        )
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the deadline was not honoured"
    );
    assert!(err.to_string().contains("slow"), "{err}");
    let ms: u64 = counter.action("slow", (50,)).await.unwrap();
    assert_eq!(ms, 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_send_and_wait_for_completion() {
    for encoding in Encoding::ALL {
        let worker = client(encoding).get_or_create("worker", unique_key("queue"));
        worker.send("jobs", &json!({"n": 1})).await.unwrap();
        let reply = within(
            30,
            "queue",
            worker.send_and_wait("jobs", &json!({"n": 2}), Duration::from_secs(10)),
        )
        .await
        .unwrap();
        assert!(reply.is_completed(), "{encoding}: {reply:?}");
        let done: Value = reply.response_as().unwrap();
        assert_eq!(done, json!({"done": {"n": 2}}), "{encoding}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_fetch_reaches_on_request_with_path_query_headers_and_body() {
    for encoding in Encoding::ALL {
        let actor = client(encoding)
            .get_or_create("counter", unique_key("raw"))
            .with_params(&json!({"p": 1}))
            .unwrap();
        let response = actor
            .fetch(
                "/some/path?q=1",
                RawRequest::post(b"hello".to_vec()).header("x-custom", "yes"),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.header("x-from-actor"), Some("yes"));
        let echo: Value = response.json().unwrap();
        assert_eq!(echo["method"], "POST");
        assert!(
            echo["url"].as_str().unwrap().ends_with("/some/path?q=1"),
            "{echo}"
        );
        assert_eq!(echo["body"], "hello");
        assert_eq!(echo["headers"]["x-custom"], "yes");
        let get = actor.fetch("status", RawRequest::get()).await.unwrap();
        assert_eq!(get.json::<Value>().unwrap()["method"], "GET");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_server_is_a_retryable_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let client = Client::new(format!("http://127.0.0.1:{port}")).unwrap();
    let err = within(
        30,
        "refused",
        client
            .get_or_create("counter", "x")
            .action::<Value>("getCount", ()),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportErrorKind::Connect,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_connect() && err.is_retryable());
    assert!(
        err.to_string().contains("getCount"),
        "the error names the call: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_actor_name_the_server_does_not_know_is_unavailable() {
    let err = within(
        60,
        "unknown name",
        client_without_retries(Encoding::Json)
            .get_or_create("noSuchActor", "x")
            .action::<Value>("a", ()),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
    assert_eq!(err.code(), Some("actor_wake_retries_exceeded"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_typed_error_not_a_panic() {
    let client = client(Encoding::Bare);
    let err = client
        .get_or_create("", "x")
        .action::<Value>("a", ())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput {
                field: "actor name",
                ..
            }
        ),
        "{err:?}"
    );
    let err = client
        .get_or_create("counter", "x")
        .action::<Value>("", ())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput {
                field: "action name",
                ..
            }
        ),
        "{err:?}"
    );
    let err = client
        .get_or_create("counter", unique_key("decode"))
        .action::<u8>("echo", ("not a number",))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}
