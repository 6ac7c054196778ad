//! Counter demo: run it against a RivetKit server that registers the `counter` actor
//! (`scripts/demo.sh` starts one). Set `RIVET_ENDPOINT` to point elsewhere.
//!
//! The actor's interface is declared once, in `rivet-example-actors`: every action, argument,
//! result and event payload below is checked by the compiler.

use std::time::Duration;

use futures::StreamExt;
use rivet_core::{Client, ClientConfig, ConnStatus, Error};
use rivet_example_actors::{Counter, CounterActions};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = ClientConfig::from_env()?;
    println!(
        "endpoint {} (namespace {}, encoding {})",
        config.endpoint(),
        config.namespace(),
        config.encoding()
    );
    let client = Client::from_config(config)?;
    let counter = client.get_or_create(Counter, ["demo"]);

    // Stateless: one HTTP request per call.
    let count = counter.get_count().await?;
    println!("stateless {} -> {count}", Counter::GET_COUNT.name());

    // Stateful: one WebSocket, events pushed by the actor.
    let conn = counter.connect()?;
    let mut states = conn.states();
    tokio::spawn(async move {
        while let Some(state) = states.next().await {
            match state.status {
                ConnStatus::Connected => println!(
                    "[status] connected (connection {})",
                    state.connection_id.unwrap_or_default()
                ),
                other => println!("[status] {other}"),
            }
        }
    });
    let _listener = conn.on(Counter::NEW_COUNT, |count| {
        println!("[event] {} {count}", Counter::NEW_COUNT.name());
    });
    conn.ready().await?;
    for step in 1..=3 {
        let count = conn.increment(step).await?;
        println!("increment({step}) -> {count}");
    }

    // Errors are structured: group, code, message, metadata.
    match conn.boom().await {
        Err(err) => println!(
            "boom -> {}.{}: metadata {}",
            err.group().unwrap_or("?"),
            err.code().unwrap_or("?"),
            err.metadata().cloned().unwrap_or_default()
        ),
        Ok(()) => println!("boom unexpectedly succeeded"),
    }

    tokio::time::sleep(Duration::from_millis(200)).await;
    client.dispose().await;
    println!("disposed; live connections: {}", client.live_connections());
    Ok(())
}
