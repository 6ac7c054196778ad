//! Stateless calls from a browser page to a real RivetKit 2.3.19 server on another origin:
//! actions in every encoding, errors, addressing, queues, raw fetch, deadlines, and what CORS
//! really allows.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{client, client_for, client_without_retries, endpoint, fetch, ms, now_ms, unique_key};
use rivet_core::{ActionOptions, ActorKey, CreateOptions, Encoding, Error, RawRequest};
use serde_json::{json, Value};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn the_page_and_the_server_are_on_different_origins() {
    let origin = web_sys::window().unwrap().location().origin().unwrap();
    assert!(origin.starts_with("http://127.0.0.1:"), "{origin}");
    assert_ne!(origin, endpoint(), "the test must be cross-origin");
}

/// In the browser the endpoint is parsed by the page's own `URL`; the rules are the native ones.
#[wasm_bindgen_test]
fn endpoints_follow_the_same_rules_with_the_browsers_url_parser() {
    use rivet_core::ClientConfig;
    let c = ClientConfig::new("HTTPS://ns%20x:tok%2Fen@API.example.com:443/base/").unwrap();
    assert_eq!(c.endpoint(), "https://api.example.com/base");
    assert_eq!(c.namespace(), "ns x");
    assert_eq!(c.token().unwrap().expose(), "tok/en");
    for bad in [
        "nope",
        "http://h/?",
        "http://h/?q=1",
        "http://h/#",
        "https://:tok@h",
        "ws://h",
    ] {
        let err = ClientConfig::new(bad).unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidInput {
                    field: "endpoint",
                    ..
                }
            ),
            "{bad}: {err}"
        );
    }
    let err = ClientConfig::new("https://ns:hunter2@h/?q").unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[wasm_bindgen_test]
async fn actions_round_trip_in_every_encoding() {
    for encoding in Encoding::ALL {
        let counter = client(encoding).get_or_create("counter", unique_key("http"));
        let a: i64 = counter.action("increment", (1,)).await.unwrap();
        let b: i64 = counter.action("increment", (2,)).await.unwrap();
        assert_eq!((a, b), (1, 3), "{encoding}");
        let echoed: Value = counter
            .action("echo", (json!({"nested": [1, "$x"]}), "zoë 日本 🎉", 2.5))
            .await
            .unwrap();
        assert_eq!(
            echoed,
            json!([{"nested": [1, "$x"]}, "zoë 日本 🎉", 2.5]),
            "{encoding}"
        );
        let big: Value = counter.action("bigint", ()).await.unwrap();
        assert_eq!(big, json!("18446744073709551621"), "{encoding}");
        let bytes: Vec<u8> = counter.action("bytes", ()).await.unwrap();
        assert_eq!(bytes, vec![1, 2, 3], "{encoding}");
    }
}

#[wasm_bindgen_test]
async fn user_errors_carry_group_code_metadata_actor_and_ray_id() {
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
        assert_eq!(server.metadata, Some(json!({"a": 1, "b": "two"})));
        assert_eq!(server.status, Some(500));
        assert!(server
            .actor
            .as_ref()
            .is_some_and(|a| !a.actor_id.is_empty()));
        // Read from a response header: only visible cross-origin with credentials omitted.
        assert!(
            server.ray_id.as_deref().is_some_and(|r| !r.is_empty()),
            "{encoding}: x-rivet-ray-id is exposed: {server:?}"
        );
        assert!(!err.is_retryable());
        let err = counter.action::<Value>("nope", ()).await.unwrap_err();
        assert_eq!(err.code(), Some("action_not_found"), "{encoding}: {err}");
    }
}

#[wasm_bindgen_test]
async fn get_of_a_missing_actor_is_not_found() {
    for encoding in Encoding::ALL {
        let err = client_without_retries(encoding)
            .get("counter", unique_key("missing"))
            .action::<Value>("getCount", ())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NotFound(_)), "{encoding}: {err:?}");
    }
    // With the default lifecycle retries too (24 tries, about 2.5 s).
    let err = client(Encoding::Json)
        .get("counter", unique_key("missing"))
        .action::<Value>("getCount", ())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
}

#[wasm_bindgen_test]
async fn params_travel_as_ascii_headers_and_bad_ones_are_rejected() {
    for encoding in Encoding::ALL {
        let room = client(encoding).get_or_create("chatRoom", unique_key("params"));
        let ok = room
            .with_params(&json!({"token": "secret", "user": "zoë 日本"}))
            .unwrap();
        let entry: Value = ok.action("sendMessage", ("hi",)).await.unwrap();
        assert_eq!(entry["user"], "zoë 日本", "{encoding}");
        let bad = room.with_params(&json!({"token": "wrong"})).unwrap();
        let err = bad.action::<Value>("getHistory", ()).await.unwrap_err();
        assert_eq!(
            (err.group(), err.code()),
            (Some("user"), Some("unauthorized")),
            "{encoding}: {err}"
        );
        assert_eq!(err.metadata(), Some(&json!({"got": "wrong"})));
    }
}

#[wasm_bindgen_test]
async fn create_resolve_and_keys_with_commas_go_through_the_rest_api() {
    let client = client(Encoding::Cbor);
    let key = unique_key("create");
    let created = client
        .create_with(
            "withInput",
            key.as_str(),
            CreateOptions::new().input(&json!({"n": 42})).unwrap(),
        )
        .await
        .unwrap();
    let input: Value = created.action("getInput", ()).await.unwrap();
    assert_eq!(input, json!({"n": 42}));
    let err = client.create("withInput", key.as_str()).await.unwrap_err();
    assert_eq!(err.code(), Some("duplicate_key"), "{err}");
    let id = created.resolve().await.unwrap();
    assert_eq!(
        client
            .get("withInput", key.as_str())
            .resolve()
            .await
            .unwrap(),
        id
    );

    let base = unique_key("comma");
    let comma = ActorKey::new([base.as_str(), "d,e"]);
    let seen: Value = client
        .get_or_create("withInput", comma.clone())
        .action("getKey", ())
        .await
        .unwrap();
    assert_eq!(seen, json!([base, "d,e"]));
    let via_get: Value = client
        .get("withInput", comma)
        .action("getKey", ())
        .await
        .unwrap();
    assert_eq!(via_get, json!([base, "d,e"]));
}

#[wasm_bindgen_test]
async fn queue_send_and_wait_for_completion() {
    for encoding in Encoding::ALL {
        let worker = client(encoding).get_or_create("worker", unique_key("queue"));
        worker.send("jobs", &json!({"n": 1})).await.unwrap();
        let reply = worker
            .send_and_wait("jobs", &json!({"n": 2}), ms(10_000))
            .await
            .unwrap();
        assert!(reply.is_completed(), "{encoding}: {reply:?}");
        let done: Value = reply.response_as().unwrap();
        assert_eq!(done, json!({"done": {"n": 2}}), "{encoding}");
    }
}

#[wasm_bindgen_test]
async fn raw_fetch_passes_method_path_headers_and_body_and_exposes_actor_headers() {
    let actor = client(Encoding::Bare)
        .get_or_create("counter", unique_key("raw"))
        .with_params(&json!({"p": "ü"}))
        .unwrap();
    let response = actor
        .fetch(
            "/some/path?q=1",
            RawRequest::post(b"hello".to_vec()).header("x-custom", "yes"),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.header("x-from-actor"),
        Some("yes"),
        "exposed by `*`"
    );
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

    // A header value the browser refuses is a typed error, not a thrown exception.
    let err = actor
        .fetch("/x", RawRequest::get().header("x-name", "日本"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");

    // A gateway error on the raw path is recognised by its (exposed) x-rivet-error header.
    let err = client_without_retries(Encoding::Json)
        .get("counter", unique_key("raw-missing"))
        .fetch("/x", RawRequest::get())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
}

#[wasm_bindgen_test]
async fn actions_have_deadlines() {
    let counter = client(Encoding::Bare).get_or_create("counter", unique_key("slow"));
    let started = now_ms();
    let err = counter
        .action_with::<Value>("slow", (3000,), ActionOptions::new().timeout(ms(300)))
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(now_ms() - started < 2500.0, "the deadline was not honoured");
    let done: u64 = counter.action("slow", (50,)).await.unwrap();
    assert_eq!(done, 50);
}

#[wasm_bindgen_test]
async fn an_unreachable_server_is_a_retryable_connect_error() {
    // Nothing listens on the discard port; the browser reports only "Failed to fetch".
    let err = client_for("http://127.0.0.1:9", Encoding::Json)
        .get_or_create("counter", "x")
        .action::<Value>("getCount", ())
        .await
        .unwrap_err();
    assert!(err.is_connect() && err.is_retryable(), "{err:?}");
}

/// What CORS allows, measured with the page's own `fetch` below the client.
#[wasm_bindgen_test]
async fn cors_exposes_rivet_headers_only_to_requests_without_credentials() {
    let key = unique_key("cors");
    let url = format!(
        "{}/gateway/counter/action/increment?rvt-namespace=default&rvt-method=getOrCreate&\
         rvt-key={key}&rvt-runner=default&rvt-crash-policy=sleep",
        endpoint()
    );
    let post = |credentials: web_sys::RequestCredentials| {
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_mode(web_sys::RequestMode::Cors);
        init.set_credentials(credentials);
        let headers = web_sys::Headers::new().unwrap();
        // Not CORS-safelisted: these need a preflight, which the server must accept.
        headers.append("x-rivet-encoding", "json").unwrap();
        headers
            .append("x-rivet-conn-params", r#"{"u":"\u00fc"}"#)
            .unwrap();
        headers.append("x-rivet-token", "t").unwrap();
        headers.append("content-type", "application/json").unwrap();
        init.set_headers(&headers);
        init.set_body(&wasm_bindgen::JsValue::from_str(r#"{"args":[1]}"#));
        init
    };

    let omit = fetch(&url, post(web_sys::RequestCredentials::Omit))
        .await
        .expect("the preflight accepts x-rivet-encoding, x-rivet-conn-params, x-rivet-token");
    assert_eq!(omit.status(), 200);
    let headers = omit.headers();
    for name in ["x-rivet-actor", "x-rivet-ray-id", "content-type"] {
        assert!(
            headers.get(name).unwrap().is_some(),
            "credentials omitted: {name} is readable"
        );
    }

    let include = fetch(&url, post(web_sys::RequestCredentials::Include))
        .await
        .expect("credentialed requests are allowed (allow-credentials: true, echoed origin)");
    assert_eq!(include.status(), 200);
    let headers = include.headers();
    assert!(headers.get("content-type").unwrap().is_some());
    for name in ["x-rivet-actor", "x-rivet-ray-id"] {
        assert_eq!(
            headers.get(name).unwrap(),
            None,
            "credentials included: `expose-headers: *` is literal, {name} is hidden"
        );
    }

    // The one gateway error seen without CORS headers: a malformed query. The page only
    // gets a network error.
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_credentials(web_sys::RequestCredentials::Omit);
    let bad = fetch(
        &format!(
            "{}/gateway/counter/action/getCount?rvt-namespace=default&rvt-method=bad",
            endpoint()
        ),
        init,
    )
    .await;
    assert!(
        bad.is_err(),
        "guard.query_invalid_params has no CORS headers"
    );
}
