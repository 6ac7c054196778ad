//! The engine's REST API (`/actors`): used to resolve actors by key, to create them, and to
//! reach keys the query gateway cannot represent.

use serde_json::{json, Value};

use crate::gateway::encode_component;
use crate::key::ActorKey;
use crate::protocol::{codec, compat, Encoding};
use crate::shared::ClientInner;
use crate::transport::{HttpRequest, Method, ResponseLimit};
use crate::{http, Error, Result};

/// What `PUT`/`POST /actors` needs besides name and key.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct CreateSpec {
    pub input: Option<Value>,
    pub region: Option<String>,
}

/// `GET /actors?name=&key=`: the id of the live actor with this key, if any.
pub(crate) async fn find_by_key(
    client: &ClientInner,
    name: &str,
    key: &ActorKey,
) -> Result<Option<String>> {
    client.ensure_metadata().await?;
    let config = client.config();
    let url = format!(
        "{}/actors?namespace={}&name={}&key={}",
        config.endpoint(),
        encode_component(config.namespace()),
        encode_component(name),
        encode_component(&key.rest_form()),
    );
    let operation = format!("look up actor {name} {key}");
    let body = send(client, Method::Get, url, None, &operation).await?;
    let actors = body
        .get("actors")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::decode(&operation, "the response has no `actors` list"))?;
    Ok(actors
        .iter()
        .filter(|a| a.get("destroy_ts").is_none_or(Value::is_null))
        .find_map(|a| a.get("actor_id").and_then(Value::as_str))
        .map(str::to_owned))
}

/// `PUT /actors`: the id of the actor with this key, created with `spec` if missing.
pub(crate) async fn get_or_create(
    client: &ClientInner,
    name: &str,
    key: &ActorKey,
    spec: &CreateSpec,
) -> Result<String> {
    let operation = format!("get or create actor {name} {key}");
    create_request(client, Method::Put, name, key, spec, &operation).await
}

/// `POST /actors`: creates a new actor; fails with `actor.duplicate_key` when one exists.
pub(crate) async fn create(
    client: &ClientInner,
    name: &str,
    key: &ActorKey,
    spec: &CreateSpec,
) -> Result<String> {
    let operation = format!("create actor {name} {key}");
    // Seen against 2.3.19: a create whose key is already taken sometimes answers 400
    // `actor.destroyed_during_creation` (the engine made a new actor, found the key taken and
    // destroyed it) instead of `actor.duplicate_key`. Look the key up: if an actor has it,
    // report what happened as `duplicate_key`; if not, the race was with a dying actor and
    // asking again is right.
    let mut attempts_left = 3;
    loop {
        let result = create_request(client, Method::Post, name, key, spec, &operation).await;
        attempts_left -= 1;
        match result {
            Err(err) if err.code() == Some("destroyed_during_creation") => {
                if let Some(existing) = find_by_key(client, name, key).await? {
                    return Err(duplicate_key(name, key, &existing, &err));
                }
                if attempts_left == 0 {
                    return Err(err);
                }
                crate::runtime::sleep(std::time::Duration::from_millis(100)).await;
            }
            other => return other,
        }
    }
}

/// The `actor.duplicate_key` error the engine gives for a taken key, built when it reported
/// the same situation as `destroyed_during_creation`.
fn duplicate_key(
    name: &str,
    key: &ActorKey,
    existing: &str,
    reported: &crate::Error,
) -> crate::Error {
    let mut err = crate::ServerError::new(
        "actor",
        "duplicate_key",
        format!(
            "an actor {name} with key {key} already exists ({existing}); the engine reported: {reported}"
        ),
    );
    err.metadata = Some(serde_json::json!({
        "existing_actor_id": existing,
        "key": key.rest_form(),
    }));
    err.status = Some(400);
    err.into_error()
}

async fn create_request(
    client: &ClientInner,
    method: Method,
    name: &str,
    key: &ActorKey,
    spec: &CreateSpec,
    operation: &str,
) -> Result<String> {
    client.ensure_metadata().await?;
    let config = client.config();
    let url = format!(
        "{}/actors?namespace={}",
        config.endpoint(),
        encode_component(config.namespace())
    );
    let mut body = json!({
        "name": name,
        "key": key.rest_form(),
        "runner_name_selector": config.pool(),
        "crash_policy": "sleep",
    });
    if let Some(input) = &spec.input {
        let cbor = codec::cbor_encode(&compat::to_wire(input, Encoding::Cbor))?;
        body["input"] = Value::String(crate::b64::encode(&cbor));
    }
    if let Some(region) = &spec.region {
        body["datacenter"] = Value::String(region.clone());
    }
    let reply = send(client, method, url, Some(body), operation).await?;
    reply
        .pointer("/actor/actor_id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::decode(operation, "the response has no `actor.actor_id`"))
}

async fn send(
    client: &ClientInner,
    method: Method,
    url: String,
    body: Option<Value>,
    operation: &str,
) -> Result<Value> {
    let config = client.config();
    let mut headers = config.headers().to_vec();
    headers.push(("accept".into(), "application/json".into()));
    if let Some(token) = config.token() {
        headers.push(("authorization".into(), format!("Bearer {}", token.expose())));
    }
    let body = match body {
        Some(body) => {
            headers.push(("content-type".into(), "application/json".into()));
            Some(body.to_string().into_bytes())
        }
        None => None,
    };
    let response = client
        .http()
        .send(HttpRequest {
            method,
            url,
            headers,
            body,
            timeout: config.request_timeout(),
            limit: ResponseLimit::protocol(config),
            operation: operation.to_owned(),
        })
        .await?;
    if !response.is_success() {
        return Err(http::error_from_response(
            &response,
            Encoding::Json,
            operation,
        ));
    }
    serde_json::from_slice(&response.body).map_err(|e| Error::decode(operation, e))
}
