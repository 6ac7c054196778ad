//! Codec micro-benchmarks: encode / decode of every client-protocol message kind in each
//! encoding (json, cbor, bare). Run with `cargo bench -p rivet-client --bench codecs`.
//!
//! Server-to-client frames are built the way the server writes them: JSON text with
//! `["$BigInt","n"]` ids, the same structure in CBOR, and BARE v4 with CBOR payloads.

// A benchmark of fixed, known-good inputs: a failure is a bug to see at once.
#![allow(clippy::unwrap_used)]
// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rivet_core::protocol::bare::Writer;
use rivet_core::protocol::{
    cbor_encode, decode_http_action_response, decode_to_client, encode_http_action_request,
    encode_to_server, ToServer,
};
use rivet_core::Encoding;
use serde_json::{json, Value};
use std::hint::black_box;

const ACTOR_ID: &str = "lvxqsjez9bjqv841ny0yyuyagvbl00";
const CONN_ID: &str = "b74626dd-da09-473b-b038-ae77618b73aa";

/// A typical action output / event argument: a small object.
fn payload() -> Value {
    json!({"text": "hello world", "user": "alice", "count": 42, "tags": ["a", "b"]})
}

/// The server-to-client messages, as `(kind, json form)`; the JSON form is what the server
/// sends in the json encoding and, structurally, in cbor.
fn to_client_messages() -> Vec<(&'static str, Value)> {
    vec![
        (
            "Init",
            json!({"body": {"tag": "Init", "val": {"actorId": ACTOR_ID, "connectionId": CONN_ID}}}),
        ),
        (
            "ActionResponse",
            json!({"body": {"tag": "ActionResponse", "val": {"id": ["$BigInt", "7"], "output": payload()}}}),
        ),
        (
            "Event",
            json!({"body": {"tag": "Event", "val": {"name": "newCount", "args": [payload()]}}}),
        ),
        (
            "Error",
            json!({"body": {"tag": "Error", "val": {
                "group": "user", "code": "boom_code", "message": "boom happened",
                "metadata": {"a": 1, "b": "two"}, "actionId": ["$BigInt", "10"],
                "actor": {"actorId": ACTOR_ID, "generation": 1, "key": "k"},
            }}}),
        ),
    ]
}

/// The CBOR form of a server message: ids are plain integers there.
fn cbor_form(message: &Value) -> Value {
    let mut message = message.clone();
    let val = &mut message["body"]["val"];
    for field in ["id", "actionId"] {
        if let Some(id) = val.get(field).and_then(|v| v[1].as_str()) {
            val[field] = json!(id.parse::<u64>().unwrap());
        }
    }
    message
}

/// The BARE v4 frame of a server message.
fn bare_form(kind: &str, message: &Value) -> Vec<u8> {
    let val = &message["body"]["val"];
    let mut w = Writer::with_version();
    match kind {
        "Init" => {
            w.tag(0);
            w.str(ACTOR_ID);
            w.str(CONN_ID);
        }
        "Error" => {
            w.tag(1);
            for field in ["group", "code", "message"] {
                w.str(val[field].as_str().unwrap());
            }
            w.optional(Some(cbor_encode(&val["metadata"]).unwrap()), |w, m| {
                w.data(&m)
            });
            w.optional(Some(10), |w, id| w.uint(id));
            w.optional(Some(()), |w, ()| {
                w.str(ACTOR_ID);
                w.uint(1);
                w.optional(Some("k"), |w, k| w.str(k));
            });
        }
        "ActionResponse" => {
            w.tag(2);
            w.uint(7);
            w.data(&cbor_encode(&val["output"]).unwrap());
        }
        "Event" => {
            w.tag(3);
            w.str("newCount");
            w.data(&cbor_encode(&val["args"]).unwrap());
        }
        other => unreachable!("unknown kind {other}"),
    }
    w.finish()
}

fn frame(kind: &str, message: &Value, encoding: Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Json => serde_json::to_vec(message).unwrap(),
        Encoding::Cbor => cbor_encode(&cbor_form(message)).unwrap(),
        Encoding::Bare => bare_form(kind, message),
    }
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode_to_client");
    for (kind, message) in to_client_messages() {
        for encoding in Encoding::ALL {
            let bytes = frame(kind, &message, encoding);
            // Every frame must decode: a benchmark of an error path would be meaningless.
            decode_to_client(&bytes, encoding).unwrap();
            group.throughput(Throughput::Bytes(bytes.len() as u64));
            group.bench_with_input(
                BenchmarkId::new(kind, encoding.as_str()),
                &bytes,
                |b, bytes| b.iter(|| decode_to_client(black_box(bytes), encoding).unwrap()),
            );
        }
    }
    group.finish();
}

fn encode(c: &mut Criterion) {
    let messages = [
        (
            "ActionRequest",
            ToServer::ActionRequest {
                id: 7,
                name: "increment".into(),
                args: json!([1, payload()]),
            },
        ),
        (
            "SubscriptionRequest",
            ToServer::SubscriptionRequest {
                event_name: "newCount".into(),
                subscribe: true,
            },
        ),
    ];
    let mut group = c.benchmark_group("encode_to_server");
    for (kind, message) in &messages {
        for encoding in Encoding::ALL {
            group.bench_with_input(
                BenchmarkId::new(*kind, encoding.as_str()),
                message,
                |b, message| b.iter(|| encode_to_server(black_box(message), encoding).unwrap()),
            );
        }
    }
    group.finish();
}

fn http(c: &mut Criterion) {
    let args = json!([1, payload()]);
    let mut group = c.benchmark_group("http_action");
    for encoding in Encoding::ALL {
        group.bench_with_input(
            BenchmarkId::new("encode_request", encoding.as_str()),
            &args,
            |b, args| b.iter(|| encode_http_action_request(black_box(args), encoding).unwrap()),
        );
        let body = match encoding {
            Encoding::Json => serde_json::to_vec(&json!({"output": payload()})).unwrap(),
            Encoding::Cbor => cbor_encode(&json!({"output": payload()})).unwrap(),
            Encoding::Bare => {
                let mut w = Writer::with_version();
                w.data(&cbor_encode(&payload()).unwrap());
                w.finish()
            }
        };
        decode_http_action_response(&body, encoding).unwrap();
        group.bench_with_input(
            BenchmarkId::new("decode_response", encoding.as_str()),
            &body,
            |b, body| b.iter(|| decode_http_action_response(black_box(body), encoding).unwrap()),
        );
    }
    group.finish();
}

/// A typed action output or argument list: a few records with strings, numbers beyond 2^53,
/// optional fields and bytes.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Record {
    id: u64,
    user: String,
    text: String,
    score: f64,
    tags: Vec<String>,
    parent: Option<u64>,
    blob: rivet_core::Bytes,
}

fn records() -> Vec<Record> {
    (0..8u64)
        .map(|i| Record {
            id: u64::MAX - i,
            user: format!("user-{i}"),
            text: "hello world, straight to the wire".into(),
            score: i as f64 * 1.5,
            tags: vec!["a".into(), "b".into()],
            parent: (i % 2 == 0).then_some(i),
            blob: rivet_core::Bytes::from(vec![i as u8; 16]),
        })
        .collect()
}

/// Typed payloads: straight to and from the wire (`encode_payload` / `decode_payload`, what
/// actions and events use) against the tree path they replaced (`serde_json::Value`, then the
/// compat tags, then the encoding; and back).
fn typed(c: &mut Criterion) {
    use rivet_core::protocol::{
        cbor_decode_compat, cbor_encode_compat, compat, decode_payload, encode_payload,
    };
    let value = records();
    let mut group = c.benchmark_group("typed_payload");
    for encoding in [Encoding::Json, Encoding::Cbor] {
        let tree_encode = |v: &Vec<Record>| -> Vec<u8> {
            let tree = serde_json::to_value(v).unwrap();
            match encoding {
                Encoding::Json => serde_json::to_vec(&compat::to_wire(&tree, encoding)).unwrap(),
                _ => cbor_encode_compat(&tree).unwrap(),
            }
        };
        let tree_decode = |bytes: &[u8]| -> Vec<Record> {
            let tree = match encoding {
                Encoding::Json => compat::revive(serde_json::from_slice(bytes).unwrap()).unwrap(),
                _ => cbor_decode_compat(bytes).unwrap(),
            };
            serde_json::from_value(tree).unwrap()
        };
        let bytes = encode_payload(&value, encoding).unwrap();
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::new("encode_tree", encoding), &value, |b, v| {
            b.iter(|| tree_encode(black_box(v)))
        });
        group.bench_with_input(
            BenchmarkId::new("encode_direct", encoding),
            &value,
            |b, v| b.iter(|| encode_payload(black_box(v), encoding).unwrap()),
        );
        group.bench_with_input(
            BenchmarkId::new("decode_tree", encoding),
            &bytes,
            |b, bytes| b.iter(|| tree_decode(black_box(bytes))),
        );
        group.bench_with_input(
            BenchmarkId::new("decode_direct", encoding),
            &bytes,
            |b, bytes| {
                b.iter(|| decode_payload::<Vec<Record>>(black_box(bytes), encoding).unwrap())
            },
        );
    }
    group.finish();
}

criterion_group!(benches, encode, decode, http, typed);
criterion_main!(benches);
