//! Fuzzing that stays: every decoder, on stable Rust, for a bounded time with a fixed seed.
//!
//! For each target (see `fuzz/targets.rs`) the harness starts from a corpus of real captured
//! frames and bodies, applies structure-aware mutations (bit flips, byte inserts and deletes,
//! splices between corpus entries, huge length prefixes, deep nesting, protocol tokens) and
//! checks that the decoder never panics, answers with a value or a typed error, and keeps its
//! invariants. Inputs a decoder accepts join the corpus, so mutations build on valid shapes.
//!
//! Bounded by `RIVET_FUZZ_ITERATIONS` (default 100 000) and `RIVET_FUZZ_SECONDS` (default 4)
//! per target, whichever comes first; `RIVET_FUZZ_SEED` picks another seed;
//! `RIVET_FUZZ_WRITE_CORPUS=dir` writes each target's seeds to `dir/<target>/` for libFuzzer.
//! To run long:
//!
//! ```text
//! RIVET_FUZZ_ITERATIONS=5000000 RIVET_FUZZ_SECONDS=900 \
//!     cargo test --release -p rivet-client --test fuzz -- --nocapture --test-threads 2
//! ```
//!
//! Findings and the figures of past long runs are in `docs/fuzzing.md`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "fuzz/targets.rs"]
mod targets;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use rivet_core::protocol::cbor_encode;

const DEFAULT_SEED: u64 = 0x5eed_f022_2026_1130;
const DEFAULT_ITERATIONS: u64 = 100_000;
const DEFAULT_SECONDS: u64 = 4;
/// A corpus grows with accepted inputs up to this many entries.
const MAX_CORPUS: usize = 2_048;
/// Mutations never grow a protocol input past this (the server's own incoming limit is 64 KiB),
/// nor a text input (endpoint, key, close reason) past [`MAX_TEXT`].
const MAX_INPUT: usize = 64 * 1024;
const MAX_TEXT: usize = 2 * 1024;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

// --- Corpus: real captures ---------------------------------------------------------------

/// Hex with spaces and `|`, and `"text"` literals, the notation used for captured frames.
fn frame(spec: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = spec;
    loop {
        let (hex_part, text) = match rest.find('"') {
            Some(start) => {
                let end = rest[start + 1..].find('"').unwrap() + start + 1;
                let text = &rest[start + 1..end];
                let hex_part = &rest[..start];
                rest = &rest[end + 1..];
                (hex_part, Some(text))
            }
            None => (std::mem::take(&mut rest), None),
        };
        let digits: String = hex_part.chars().filter(char::is_ascii_hexdigit).collect();
        for i in (0..digits.len()).step_by(2) {
            out.push(u8::from_str_radix(&digits[i..i + 2], 16).unwrap());
        }
        match text {
            Some(text) => out.extend_from_slice(text.as_bytes()),
            None => return out,
        }
    }
}

const ACTOR_ID: &str = "lvxqsjez9bjqv841ny0yyuyagvbl00";
const CONN_ID: &str = "b74626dd-da09-473b-b038-ae77618b73aa";

/// The server's JSON frames as captured (`docs/protocol.md` §5), plus the codec tests' own.
fn json_frames() -> Vec<Vec<u8>> {
    [
        format!(r#"{{"body":{{"tag":"Init","val":{{"actorId":"{ACTOR_ID}","connectionId":"{CONN_ID}"}}}}}}"#),
        r#"{"body":{"tag":"ActionResponse","val":{"id":["$BigInt","7"],"output":{"text":"no-sub yet","user":"alice"}}}}"#.into(),
        r#"{"body":{"tag":"Event","val":{"args":[{"text":"after sub","user":"alice"}],"name":"message"}}}"#.into(),
        r#"{"body":{"tag":"Error","val":{"actionId":["$BigInt","10"],"actor":{"actorId":"5v22","generation":1,"key":"ws1-x"},"code":"action_not_found","group":"actor","message":"Action `nope` was not found."}}}"#.into(),
        r#"{"body":{"tag":"Error","val":{"actionId":null,"code":"unauthorized","group":"user","message":"bad token","metadata":{"got":"nope"}}}}"#.into(),
        r#"{"body":{"tag":"ActionResponse","val":{"id":7,"output":[["$Uint8Array","AQID"],["$$x",1],["$Set",[1]],["$Undefined",0]]}}}"#.into(),
        r#"{"body":{"tag":"Event","val":{"args":5,"name":"multi"}}}"#.into(),
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect()
}

fn json_bodies() -> Vec<Vec<u8>> {
    [
        r#"{"output":5}"#,
        r#"{"output":{"a":[1,2],"big":["$BigInt","18446744073709551616"]}}"#,
        r#"{}"#,
        r#"{"response":{"done":{"n":2}},"status":"completed"}"#,
        r#"{"status":"timedOut"}"#,
        r#"{"actor":{"actorId":"h4aru8pn2gbzq3mn03st3cu3vvcl00","generation":1,"key":"err-mwsfjgap"},"code":"boom_code","group":"user","message":"boom happened","metadata":{"a":1,"b":"two"}}"#,
        r#"{"group":"actor","code":"not_found","message":"The actor does not exist or was destroyed."}"#,
        r#"{"group":"guard","code":"actor_wake_retries_exceeded","message":"m","metadata":{"actor_id":"x","reason":"r","wake_retries":8}}"#,
    ]
    .into_iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

/// CBOR: the JSON shapes re-encoded, plus the captured cbor-x forms (16-bit map headers,
/// 8-byte ids).
fn cbor_of(json: Vec<Vec<u8>>, captured: &[&str]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = json
        .iter()
        .map(|j| cbor_encode(&serde_json::from_slice(j).unwrap()).unwrap())
        .collect();
    out.extend(captured.iter().map(|c| frame(c)));
    out
}

fn cbor_frames() -> Vec<Vec<u8>> {
    cbor_of(
        json_frames(),
        &[
            r#"a1 64 "body" a2 63 "tag" 6e "ActionResponse" 63 "val" a2 62 "id" 1b 0000000000000007 66 "output" 05"#,
            r#"b9 0001 64 "body" b9 0002 63 "tag" 65 "Event" 63 "val" bf 64 "name" 61 "e" 64 "args" 9f 01 ff ff"#,
        ],
    )
}

fn cbor_bodies() -> Vec<Vec<u8>> {
    cbor_of(
        json_bodies(),
        &[
            r#"a1 66 "output" 13"#,
            r#"b9 0001 66 "output" c2 49 010000000000000000"#,
        ],
    )
}

fn bare_frames() -> Vec<Vec<u8>> {
    [
        format!(r#"04 00 | 00 | 1e "{ACTOR_ID}" | 24 "{CONN_ID}""#),
        r#"04 00 | 03 | 08 "newCount" | 02 81 07"#.into(),
        "04 00 | 02 | 00 | 01 07".into(),
        format!(
            r#"04 00 | 01 | 04 "user" | 09 "boom_code" | 0d "boom happened"
               | 01 0a a2616101616263 74776f | 01 01 | 01 1e "{ACTOR_ID}" 01 01 07 "rs/bare""#
        ),
        r#"04 00 | 01 | 04 "user" | 0c "unauthorized" | 09 "bad token" | 01 01 f6 | 00 | 00"#
            .into(),
        r#"01 00 | 00 | 01 "a" | 01 "c" | 03 "tok""#.into(),
        r#"03 00 | 01 | 01 "g" | 01 "c" | 01 "m" | 00 | 01 05"#.into(),
        r#"04 00 | 02 | 94 b4 e4 f4 cb 03 | 0e b9 0001 64 "done" b9 0001 61 "n" 02"#.into(),
    ]
    .iter()
    .map(|s| frame(s))
    .collect()
}

fn bare_bodies() -> Vec<Vec<u8>> {
    [
        "04 00 01 05",
        r#"04 00 | 09 "completed" | 01 0e b9 0001 64 "done" b9 0001 61 "n" 02"#,
        r#"04 00 | 09 "completed" | 00"#,
        r#"04 00 | 04 "user" | 09 "boom_code" | 0d "boom happened" | 01 0a a2616101616263 74776f
           | 01 1e "h4aru8pn2gbzq3mn03st3cu3vvcl00" 01 01 0c "err-mwsfjgap""#,
        r#"04 00 | 12 82 6b "$Uint8Array" 64 "AQID""#,
    ]
    .iter()
    .map(|s| frame(s))
    .collect()
}

fn compat_corpus() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = [
        r#"["$BigInt","18446744073709551616"]"#,
        r#"["$BigInt","-9223372036854775809"]"#,
        r#"["$Uint8Array","AQID"]"#,
        r#"["$ArrayBuffer","AQI="]"#,
        r#"["$Undefined",0]"#,
        r#"["$Set",[1,["$BigInt","5"],["$$x",2]]]"#,
        r#"["$$x",1]"#,
        r#"{"a":[["$$$y",2]],"f":5000000000.0,"g":0.5,"h":-12,"i":null}"#,
        r#"[1,2,3]"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let cbor: Vec<Vec<u8>> = out
        .iter()
        .map(|j| cbor_encode(&serde_json::from_slice(j).unwrap()).unwrap())
        .collect();
    out.extend(cbor);
    out
}

/// Payloads as they travel inside frames: the compat corpus plus typed shapes.
fn payload_corpus(cbor: bool) -> Vec<Vec<u8>> {
    let json: Vec<Vec<u8>> = [
        r#"["$BigInt","18446744073709551616"]"#,
        r#"["$BigInt","-9223372036854775809"]"#,
        r#"[["$Uint8Array","AQID"],["$BigInt","340282366920938463463374607431768211455"],-5,null,["a","$b"],2.5]"#,
        r#"["$Uint8Array","AQID"]"#,
        r#"["$Undefined",0]"#,
        r#"["$Set",[1,["$BigInt","5"],["$$x",2]]]"#,
        r#"["$$x",1]"#,
        r#"[{"Pair":[1,"x"]},"Unit",{"Named":{"n":["$BigInt","7"],"b":["$ArrayBuffer","AQI="]}}]"#,
        r#"{"a":[["$$$y",2]],"f":5000000000.0,"g":0.5,"h":-12,"i":null}"#,
        r#"[1,2,3]"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    if !cbor {
        return json;
    }
    let mut out: Vec<Vec<u8>> = json
        .iter()
        .map(|j| cbor_encode(&serde_json::from_slice(j).unwrap()).unwrap())
        .collect();
    // Native CBOR forms the JSON model lacks: a byte string, a bignum, a tag, indefinite lengths.
    out.push(frame("82 43 010203 c2 49 010000000000000005"));
    out.push(frame("9f d8 20 61 \"x\" bf 61 \"k\" 01 ff ff"));
    out
}

fn close_reasons() -> Vec<Vec<u8>> {
    [
        "actor.not_found#0f1e2d3c",
        "user.unauthorized",
        "guard.actor_wake_retries_exceeded#ray-1",
        "message.incoming_too_long",
        "Disposed",
        "bye-reason",
        "",
        "a.b.c#d#e",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

fn endpoints() -> Vec<Vec<u8>> {
    let token = targets::SEED_TOKEN;
    [
        "http://127.0.0.1:6420".to_owned(),
        format!("https://my-ns:{token}@api.example.com/"),
        format!("https://ns%2F1:{token}@[::1]:8443/base/path/"),
        "https://api.example.com/a/b//".to_owned(),
        "http://user@host".to_owned(),
        "ws://127.0.0.1:6420".to_owned(),
        "http://host?q=1".to_owned(),
        "http://host#frag".to_owned(),
        "not a url".to_owned(),
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect()
}

fn keys() -> Vec<Vec<u8>> {
    [
        "room",
        "org\0room",
        "",
        "\0",
        "a,b\0c",
        "a/b\\c\0\\0\0/",
        "x\0\0y",
        "é€😀\0\"quoted\"",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

/// Tokens worth inserting for each kind of input: huge length prefixes, nesting openers,
/// compat tags, numbers at the edges.
const BARE_TOKENS: &[&[u8]] = &[
    b"\xff\xff\xff\xff\x0f",                         // varint length 2^32 - 1
    b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",     // varint u64::MAX
    b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", // overlong varint
    b"\x04\x00",
    b"\x01\x00",
    b"\x05\x00",
    b"\x02",
    b"\x01",
    b"\x00",
];
const CBOR_TOKENS: &[&[u8]] = &[
    b"\x5b\x00\x00\x00\x01\x00\x00\x00\x00", // byte string claiming 4 GiB
    b"\x7b\xff\xff\xff\xff\xff\xff\xff\xff", // text string claiming 2^64 - 1 bytes
    b"\x9b\x00\x00\x00\x01\x00\x00\x00\x00", // array claiming 2^32 items
    b"\xbb\x00\x00\x00\x01\x00\x00\x00\x00", // map claiming 2^32 pairs
    b"\x9f",
    b"\xbf",
    b"\x5f",
    b"\x7f",
    b"\xff",
    b"\xc2\x51\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
    b"\xc3\x50\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
    b"\xd8\x40",
    b"\xf7",
    b"\xf9\x7e\x00",
    b"\x3b\xff\xff\xff\xff\xff\xff\xff\xff",
    b"\x1b\xff\xff\xff\xff\xff\xff\xff\xff",
    b"\x82\x67$BigInt",
    b"\x82\x6b$Uint8Array",
];
const JSON_TOKENS: &[&[u8]] = &[
    b"[",
    b"{\"",
    b"\"",
    b"\\u",
    b"\\ud800",
    b"1e999",
    b"-0",
    b"18446744073709551616",
    b"-9223372036854775809",
    b"9.902692988547747e+299",
    b"null",
    b"[\"$BigInt\",\"99999999999999999999999999999999999999999\"]",
    b"[\"$BigInt\",\" 7\"]",
    b"[\"$Uint8Array\",\"@@\"]",
    b"[\"$Set\",",
    b"[\"$$",
    b"[\"$Nope\",1]",
    b"\"actionId\":",
    b"\"id\":",
    b"\"tag\":\"Error\"",
];
const TEXT_TOKENS: &[&[u8]] = &[
    b".",
    b"#",
    b"@",
    b":",
    b"/",
    b"//",
    b"%",
    b"%2F",
    b"%ff",
    b"[",
    b"]",
    b"::",
    b"?",
    b"\\",
    b",",
    b"\0",
    b"http://",
    b"https://",
    b"\xc3\xa9",
    b"\xff",
    b" ",
    b"\t",
];

const JSON_NEST: &[&[u8]] = &[b"[", b"{\"a\":", b"[\"$Set\",", b"[\"$$a\","];
/// Arrays, indefinite arrays, maps whose key is the next item (a map key that is a map…),
/// indefinite maps and tags.
const CBOR_NEST: &[&[u8]] = &[b"\x81", b"\x9f", b"\xa1", b"\xbf", b"\xa2", b"\xc1"];
const COMPAT_NEST: &[&[u8]] = &[
    b"[",
    b"[\"$Set\",",
    b"[\"$$a\",",
    b"\x81",
    b"\xa1",
    b"\x82\x64$Set",
];
/// JSON tokens (the compat target reads JSON) and the CBOR ones (it reads CBOR too).
const COMPAT_TOKENS: &[&[u8]] = &[
    b"[\"$BigInt\",\"99999999999999999999999999999999999999999\"]",
    b"[\"$Uint8Array\",\"@@\"]",
    b"[\"$Set\",",
    b"[\"$$",
    b"[\"$Nope\",1]",
    b"1e999",
    b"18446744073709551616",
    b"\x5b\x00\x00\x00\x01\x00\x00\x00\x00",
    b"\x9b\x00\x00\x00\x01\x00\x00\x00\x00",
    b"\xa1",
    b"\x82\x67$BigInt",
    b"\x82\x6b$Uint8Array",
];

/// One target's corpus, mutation tokens, nesting opener and input size bound.
struct Spec {
    corpus: Vec<Vec<u8>>,
    tokens: &'static [&'static [u8]],
    /// Openers to repeat for deep nesting; one is picked per mutation.
    nest: &'static [&'static [u8]],
    max_input: usize,
}

fn spec(name: &str) -> Spec {
    type Bytes = &'static [&'static [u8]];
    let (corpus, tokens, nest, max_input): (_, Bytes, Bytes, _) = match name {
        "to_client_json" => (json_frames(), JSON_TOKENS, JSON_NEST, MAX_INPUT),
        "to_client_cbor" => (cbor_frames(), CBOR_TOKENS, CBOR_NEST, MAX_INPUT),
        "to_client_bare" => (bare_frames(), BARE_TOKENS, CBOR_NEST, MAX_INPUT),
        "http_json" => (json_bodies(), JSON_TOKENS, JSON_NEST, MAX_INPUT),
        "http_cbor" => (cbor_bodies(), CBOR_TOKENS, CBOR_NEST, MAX_INPUT),
        "http_bare" => (bare_bodies(), BARE_TOKENS, CBOR_NEST, MAX_INPUT),
        "compat" => (compat_corpus(), COMPAT_TOKENS, COMPAT_NEST, MAX_INPUT),
        "payload_json" => (payload_corpus(false), COMPAT_TOKENS, JSON_NEST, MAX_INPUT),
        "payload_cbor" => (payload_corpus(true), CBOR_TOKENS, CBOR_NEST, MAX_INPUT),
        "close_reason" => (close_reasons(), TEXT_TOKENS, &[b"#", b"."], MAX_TEXT),
        "endpoint" => (endpoints(), TEXT_TOKENS, &[b"/", b"@", b"%25"], MAX_TEXT),
        "key" => (keys(), TEXT_TOKENS, &[b"\\", b"\0", b","], MAX_TEXT),
        other => panic!("no fuzz target {other}"),
    };
    Spec {
        corpus,
        tokens,
        nest,
        max_input,
    }
}

// --- Mutations ----------------------------------------------------------------------------

fn mutate(rng: &mut fastrand::Rng, input: &mut Vec<u8>, spec: &Spec, corpus: &[Vec<u8>]) {
    for _ in 0..rng.usize(1..=4) {
        let len = input.len();
        let at = rng.usize(0..=len);
        match rng.u8(0..12) {
            0 if len > 0 => input[rng.usize(0..len)] ^= 1 << rng.u8(0..8),
            1 if len > 0 => input[rng.usize(0..len)] = rng.u8(..),
            2 if len > 0 => {
                const EDGES: [u8; 10] =
                    [0x00, 0x01, 0x7f, 0x80, 0xff, 0x18, 0x1b, 0x5b, 0x9f, 0xf7];
                input[rng.usize(0..len)] = EDGES[rng.usize(0..EDGES.len())];
            }
            3 => {
                let bytes: Vec<u8> = (0..rng.usize(1..=8)).map(|_| rng.u8(..)).collect();
                input.splice(at..at, bytes);
            }
            4 if len > 0 => {
                let start = rng.usize(0..len);
                let end = (start + rng.usize(1..=16)).min(len);
                input.drain(start..end);
            }
            5 if len > 0 => {
                let start = rng.usize(0..len);
                let end = (start + rng.usize(1..=32)).min(len);
                let chunk = input[start..end].to_vec();
                input.splice(at..at, chunk);
            }
            6 if !corpus.is_empty() => {
                // Splice: our head, another entry's tail.
                let other = &corpus[rng.usize(0..corpus.len())];
                let from = rng.usize(0..=other.len());
                input.truncate(at);
                input.extend_from_slice(&other[from..]);
            }
            7 => input.truncate(at),
            8 => {
                // A protocol token (a huge length prefix, a tag, an edge number), inserted or
                // written over the bytes at `at`.
                let token = spec.tokens[rng.usize(0..spec.tokens.len())];
                if rng.bool() {
                    input.splice(at..at, token.iter().copied());
                } else {
                    let end = (at + token.len()).min(len);
                    input.splice(at..end, token.iter().copied());
                }
            }
            9 if len > 0 => {
                let i = rng.usize(0..len);
                input[i] = input[i].wrapping_add(rng.u8(1..=16)).wrapping_sub(8);
            }
            10 => {
                // Deep nesting, past every recursion limit.
                let depth = rng.usize(1..=2_000);
                let nest: Vec<u8> = spec.nest[rng.usize(0..spec.nest.len())].repeat(depth);
                input.splice(at..at, nest);
            }
            _ => {
                // A length-like byte tweaked: the first byte after a BARE string, CBOR header
                // or JSON quote moves by a small amount.
                if len > 0 {
                    let i = rng.usize(0..len);
                    input[i] = match rng.u8(0..3) {
                        0 => input[i].saturating_add(1),
                        1 => input[i].saturating_sub(1),
                        _ => input[i] | 0x80,
                    };
                }
            }
        }
        input.truncate(spec.max_input);
    }
}

// --- The harness --------------------------------------------------------------------------

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Peak resident set size of the process so far, in MiB, where the platform reports it.
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

/// Runs one input; a panic or a broken invariant fails the test with the input to reproduce.
fn check(name: &str, target: targets::Target, input: &[u8], how: &str) -> bool {
    match catch_unwind(AssertUnwindSafe(|| target(input))) {
        Ok(Ok(accepted)) => accepted,
        Ok(Err(broken)) => panic!("fuzz {name}: {broken}\n  input ({how}): {}", hex(input)),
        Err(_) => panic!("fuzz {name}: panicked\n  input ({how}): {}", hex(input)),
    }
}

fn run(name: &str) {
    let (_, target) = targets::TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .expect("a listed target");
    let spec = spec(name);
    let iterations = env_u64("RIVET_FUZZ_ITERATIONS", DEFAULT_ITERATIONS);
    let budget = Duration::from_secs(env_u64("RIVET_FUZZ_SECONDS", DEFAULT_SECONDS));
    let seed = env_u64("RIVET_FUZZ_SEED", DEFAULT_SEED);
    // Each target its own stream, so adding a target does not change the others' inputs.
    let name_hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let mut rng = fastrand::Rng::with_seed(seed ^ name_hash);

    if let Ok(dir) = std::env::var("RIVET_FUZZ_WRITE_CORPUS") {
        // Seeds for libFuzzer (`cargo fuzz run <target> <dir>/<target>`).
        let dir = std::path::Path::new(&dir).join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for (i, input) in spec.corpus.iter().chain(&regressions(name)).enumerate() {
            std::fs::write(dir.join(format!("seed-{i:03}")), input).unwrap();
        }
    }
    let mut corpus = spec.corpus.clone();
    for (i, input) in corpus.iter().enumerate() {
        check(name, *target, input, &format!("corpus entry {i}"));
    }
    for (i, input) in regressions(name).iter().enumerate() {
        let at = Instant::now();
        check(name, *target, input, &format!("regression {i}"));
        let took = at.elapsed();
        assert!(
            took < Duration::from_secs(2),
            "fuzz {name}: regression {i} took {took:?}"
        );
    }

    let started = Instant::now();
    let mut execs = 0_u64;
    let mut accepted = 0_u64;
    let mut slowest = (Duration::ZERO, Vec::new());
    while execs < iterations && started.elapsed() < budget {
        let mut input = corpus[rng.usize(0..corpus.len())].clone();
        mutate(&mut rng, &mut input, &spec, &corpus);
        let at = Instant::now();
        let ok = check(
            name,
            *target,
            &input,
            &format!("seed {seed:#x}, exec {execs}"),
        );
        let took = at.elapsed();
        if took > slowest.0 {
            slowest = (took, input.clone());
        }
        execs += 1;
        if ok {
            accepted += 1;
            if corpus.len() < MAX_CORPUS {
                corpus.push(input);
            } else {
                let victim = rng.usize(spec.corpus.len()..MAX_CORPUS);
                corpus[victim] = input;
            }
        }
    }
    let elapsed = started.elapsed();
    // The slowest input again, best of three: on a busy machine one measurement may include
    // time the thread spent descheduled.
    let retimed = (0..3)
        .map(|_| {
            let at = Instant::now();
            check(name, *target, &slowest.1, "the slowest input, again");
            at.elapsed()
        })
        .min()
        .unwrap_or_default();
    let peak = peak_rss_mib();
    println!(
        "fuzz {name}: {execs} execs in {:.1} s ({accepted} accepted, corpus {}), slowest input \
         {:.1} ms ({} bytes; {:.2} ms when re-run), peak RSS {} MiB",
        elapsed.as_secs_f64(),
        corpus.len(),
        slowest.0.as_secs_f64() * 1e3,
        slowest.1.len(),
        retimed.as_secs_f64() * 1e3,
        peak.map_or("?".to_owned(), |p| p.to_string()),
    );
    // Generous bounds: a debug build on a busy machine, other targets running alongside.
    assert!(
        retimed < Duration::from_secs(2),
        "fuzz {name}: one input takes {retimed:?}: {}",
        hex(&slowest.1)
    );
    if let Some(peak) = peak {
        assert!(peak < 1024, "fuzz {name}: peak RSS {peak} MiB");
    }
}

/// A map whose key is a map whose key is a map…, `levels` deep: written out as JSON object
/// keys, each level doubled the length of the one inside (libFuzzer, `compat` and
/// `to_client_cbor`: 116- and 235-byte inputs took over 10 s; 32 levels, 66 bytes, asked for
/// 16 GiB). Now refused.
fn nested_map_keys(levels: usize) -> Vec<u8> {
    let mut bytes = vec![0xa1; levels];
    bytes.extend_from_slice(b"\x61a");
    bytes.extend(std::iter::repeat_n(0x01, levels));
    bytes
}

/// `cbor` as the output of a BARE `ActionResponse`.
fn in_bare(cbor: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x04, 0x00, 0x02, 0x00];
    let mut len = cbor.len();
    while len >= 0x80 {
        frame.push((len as u8) | 0x80);
        len >>= 7;
    }
    frame.push(len as u8);
    frame.extend_from_slice(cbor);
    frame
}

/// Inputs that once broke a target, or that probe a known danger (length prefixes claiming
/// gigabytes must fail fast without allocating them), checked before the random ones.
fn regressions(name: &str) -> Vec<Vec<u8>> {
    let strs = |v: &[&str]| v.iter().map(|s| frame(s)).collect::<Vec<_>>();
    let map_keys = || {
        vec![
            nested_map_keys(32),
            nested_map_keys(200),
            frame(
                "9f00008181818103a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1030303030303030303030303030303030303080303030303030303030303030303030303030303030303030303030303030303030803030303030303030303030303f90303030381818181308181000203ff",
            ),
            frame(
                "9f0100c0c0c041c0c0c0c0212121a2a2a2a2a2a29f0100c0c0c041c0c0c0c0212121a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2212121212121212121212121212121212121212121212121212121212121212121212121212121212121212121212121212121212121212121212121213200000000ffa2a2a2a2a2a2a2a2a2a2a2a2a2a2212121212121212121212121212121212121212121212121212121212121212121212121212103c1410a00c14193c0c041c0c0c0c04100c100c14100c14100c14193c0c041c0c021212121212121212121212121212121212121212121213100000000ff",
            ),
        ]
    };
    match name {
        "to_client_bare" | "http_bare" => {
            let mut inputs = strs(&[
                // A data field claiming 4 GiB, then 3 bytes.
                "04 00 | 02 | 00 | ff ff ff ff 0f 01 02 03",
                // A string length of u64::MAX.
                "04 00 | 03 | ff ff ff ff ff ff ff ff ff 01 61",
                // CBOR inside BARE claiming a 4 GiB byte string and a 2^32-item array.
                "04 00 | 02 | 00 | 0a 5b 00 00 00 01 00 00 00 00 00",
                "04 00 | 02 | 00 | 0a 9b 00 00 00 01 00 00 00 00 00",
                "04 00 01 09 9b 00 00 00 01 00 00 00 00",
            ]);
            inputs.extend(map_keys().iter().map(|cbor| in_bare(cbor)));
            inputs
        }
        "to_client_cbor" | "http_cbor" | "payload_cbor" => {
            let mut inputs = strs(&[
                "5b 00 00 00 01 00 00 00 00 01 02",
                "7b ff ff ff ff ff ff ff ff 61",
                "9b 00 00 00 01 00 00 00 00 01",
                "bb 00 00 00 01 00 00 00 00 61 61 01",
                r#"a1 66 "output" 9b 00 00 00 01 00 00 00 00 01"#,
                r#"a1 66 "output" 5f 5b 00 00 00 01 00 00 00 00 ff"#,
            ]);
            inputs.extend(map_keys());
            inputs
        }
        "to_client_json" | "http_json" | "compat" | "payload_json" => {
            let mut inputs = vec![
                b"[".repeat(100_000),
                br#"{"output":["$Uint8Array","////"#.to_vec(),
                br#"["$BigInt","-340282366920938463463374607431768211457"]"#.to_vec(),
            ];
            if name == "compat" || name == "payload_json" {
                inputs.extend(map_keys());
            }
            inputs
        }
        "endpoint" => vec![
            // The token in the path, not the authority (`https:/host` is `https://host`): text
            // the user wrote, not a credential. Once flagged by a too-simple check here.
            format!(
                "https:/Hapi.exam0/s://my-ns:{}@api.example.com/",
                targets::SEED_TOKEN
            ),
            // The token as the password and again in the path, where the endpoint keeps it:
            // once flagged by a check that did not count the copies.
            format!(
                "https://ns:{0}@[::1]:8443/base/p/{0}@/",
                targets::SEED_TOKEN
            ),
            // A real leak: with one slash after the scheme the URL parser still reads
            // `ns:TOKEN@host` as credentials, but the error ("must not contain a fragment")
            // showed the endpoint unredacted, as redaction looked for `://`.
            format!(
                "https:/4oy-ns:{}@api.example.com/@//#2",
                targets::SEED_TOKEN
            ),
        ]
        .into_iter()
        .map(String::into_bytes)
        .collect(),
        _ => Vec::new(),
    }
}

#[test]
fn fuzz_to_client_json() {
    run("to_client_json");
}

#[test]
fn fuzz_to_client_cbor() {
    run("to_client_cbor");
}

#[test]
fn fuzz_to_client_bare() {
    run("to_client_bare");
}

#[test]
fn fuzz_http_json() {
    run("http_json");
}

#[test]
fn fuzz_http_cbor() {
    run("http_cbor");
}

#[test]
fn fuzz_http_bare() {
    run("http_bare");
}

#[test]
fn fuzz_compat() {
    run("compat");
}

#[test]
fn fuzz_payload_json() {
    run("payload_json");
}

#[test]
fn fuzz_payload_cbor() {
    run("payload_cbor");
}

#[test]
fn fuzz_close_reason() {
    run("close_reason");
}

#[test]
fn fuzz_endpoint() {
    run("endpoint");
}

#[test]
fn fuzz_key() {
    run("key");
}

#[test]
fn every_target_has_a_test() {
    let source = include_str!("fuzz.rs");
    for (name, _) in targets::TARGETS {
        assert!(
            source.contains(&format!("run(\"{name}\")")),
            "target {name} has no #[test]"
        );
        let _ = spec(name);
    }
}

#[test]
fn the_corpus_decodes() {
    // The captures are real: each decodes with its own target (a mutation corpus of junk
    // would make the mutations shallow).
    let check_all = |name: &str| {
        let (_, target) = targets::TARGETS.iter().find(|(n, _)| *n == name).unwrap();
        for input in spec(name).corpus {
            assert!(
                target(&input).unwrap(),
                "{name}: corpus entry {} does not decode",
                hex(&input)
            );
        }
    };
    for name in [
        "to_client_json",
        "to_client_cbor",
        "to_client_bare",
        "http_json",
        "http_cbor",
        "http_bare",
    ] {
        check_all(name);
    }
}
