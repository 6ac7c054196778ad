//! The hooks in a native `VirtualDom` against a real RivetKit server: mount, connect, events
//! into signals, actions, reconnect on a changed key, rejection errors, and unmount closing
//! the connection. The `VirtualDom` is driven by a bounded pump loop inside a tokio runtime.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use dioxus::core::{current_scope_id, NoOpMutations, ScopeId};
use dioxus::prelude::*;
use rivet_core::{ActorConnection, Client, ConnStatus, Error};
use rivet_dioxus::{
    use_actor_action, use_actor_untyped, use_actor_with_options, use_event_untyped,
    use_latest_event_untyped, use_rivet_provider, Input, UseActorAction, UseActorOptions,
    UseActorReturn,
};
use rivet_test_support::{unique_key, TestServer};
use serde_json::{json, Value};

/// What the components saw on their latest render.
#[derive(Default)]
struct Probe {
    show: Option<Signal<bool>>,
    key: Option<Signal<String>>,
    scope: Option<ScopeId>,
    actor: Option<UseActorReturn>,
    action: Option<UseActorAction>,
    status: Option<ConnStatus>,
    error: Option<Error>,
    count: Option<i64>,
    latest_event: Option<Value>,
    connection: Option<ActorConnection>,
    action_value: Option<Value>,
    action_pending: bool,
    identity: Option<String>,
    renders: u32,
    /// Which render's handler handled the latest event, and the latest render at that time.
    handled_by_render: Option<(u32, u32)>,
}

type Shared = Rc<RefCell<Probe>>;

#[derive(Clone, Props)]
struct RootProps {
    client: Client,
    actor_key: String,
    params: Option<Value>,
    probe: Shared,
}

impl PartialEq for RootProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.probe, &other.probe)
    }
}

fn counter_root(props: RootProps) -> Element {
    let client = props.client.clone();
    use_rivet_provider(move || client);
    let show = use_signal(|| true);
    let initial_key = props.actor_key.clone();
    let key = use_signal(move || initial_key);
    {
        let mut probe = props.probe.borrow_mut();
        probe.show = Some(show);
        probe.key = Some(key);
    }
    rsx! {
        if show() {
            CounterView { room: key, probe: props.probe.clone() }
        }
    }
}

#[derive(Clone, Props)]
struct ViewProps {
    room: ReadSignal<String>,
    probe: Shared,
}

impl PartialEq for ViewProps {
    fn eq(&self, other: &Self) -> bool {
        self.room == other.room && Rc::ptr_eq(&self.probe, &other.probe)
    }
}

#[allow(non_snake_case)]
fn CounterView(props: ViewProps) -> Element {
    let counter = use_actor_untyped("counter", props.room);
    let increment = use_actor_action(counter);
    let latest = use_latest_event_untyped(&counter, "newCount");
    let mut count = use_signal(|| None::<i64>);
    let this_render = props.probe.borrow().renders + 1;
    let handler_probe = props.probe.clone();
    use_event_untyped(&counter, "newCount", move |event| {
        let mut probe = handler_probe.borrow_mut();
        probe.handled_by_render = Some((this_render, probe.renders));
        count.set(event.arg::<Option<i64>>(0).ok().flatten());
    });
    let mut probe = props.probe.borrow_mut();
    probe.renders = this_render;
    probe.scope = Some(current_scope_id());
    probe.actor = Some(counter);
    probe.action = Some(increment);
    probe.status = Some((counter.status)());
    probe.error = counter.error.cloned();
    probe.count = count();
    probe.latest_event = latest
        .read()
        .as_ref()
        .and_then(|e| e.args().ok().and_then(|a| a.first().cloned()));
    probe.connection = counter.connection.cloned();
    probe.action_pending = (increment.pending)();
    probe.action_value = increment.value();
    probe.identity = counter.identity().map(|i| i.to_string());
    rsx! {}
}

fn chat_root(props: RootProps) -> Element {
    let client = props.client.clone();
    use_rivet_provider(move || client);
    let params = props.params.clone().unwrap_or(Value::Null);
    let chat = use_actor_with_options(
        UseActorOptions::new("chatRoom", props.actor_key.clone()).params(Input::Value(params)),
    );
    let mut probe = props.probe.borrow_mut();
    probe.status = Some((chat.status)());
    probe.error = chat.error.cloned();
    probe.actor = Some(chat);
    rsx! {}
}

/// Runs `f` on a fresh multi-thread runtime (the connection drivers run on its workers, the
/// `VirtualDom` stays on this thread).
fn run<F: std::future::Future<Output = ()>>(f: F) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(f);
}

/// Drives `dom` until `done` holds, for at most `secs` seconds.
async fn pump_until(dom: &mut VirtualDom, secs: u64, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if done() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not reached within {secs} s"
        );
        let _ = tokio::time::timeout(Duration::from_millis(50), dom.wait_for_work()).await;
        dom.render_immediate(&mut NoOpMutations);
    }
}

fn client() -> Client {
    let client = Client::new(TestServer::shared().endpoint()).unwrap();
    client.manager().set_grace_period(Duration::ZERO);
    client
}

fn counter_dom(client: &Client, key: &str, probe: &Shared) -> VirtualDom {
    let mut dom = VirtualDom::new_with_props(
        counter_root,
        RootProps {
            client: client.clone(),
            actor_key: key.to_owned(),
            params: None,
            probe: probe.clone(),
        },
    );
    dom.rebuild_in_place();
    dom
}

#[test]
fn mounts_connects_updates_signals_from_events_and_closes_on_unmount() {
    let server = TestServer::shared();
    run(async {
        let client = client();
        let key = unique_key("dioxus-counter");
        let probe = Shared::default();
        let mut dom = counter_dom(&client, &key, &probe);

        pump_until(&mut dom, 30, "status Connected", || {
            probe.borrow().status == Some(ConnStatus::Connected)
        })
        .await;
        assert!((probe.borrow().actor.unwrap().is_connected).cloned());
        assert_eq!(client.manager().connection_count(), 1);

        // An event caused by someone else (a stateless HTTP call) reaches the signals, through
        // the handler of the latest render.
        assert!(probe.borrow().renders > 1, "re-rendered while connecting");
        let endpoint = server.endpoint();
        let http_key = key.clone();
        tokio::task::spawn_blocking(move || {
            rivet_test_support::http::action_ok(
                &endpoint,
                "counter",
                &http_key,
                "increment",
                &json!([5]),
            )
        })
        .await
        .unwrap()
        .unwrap();
        pump_until(&mut dom, 15, "newCount 5 in the signals", || {
            let p = probe.borrow();
            p.count == Some(5) && p.latest_event == Some(json!(5))
        })
        .await;
        let (handler_of, latest) = probe.borrow().handled_by_render.unwrap();
        assert_eq!(handler_of, latest, "the newest handler is called");
        assert!(handler_of > 1);

        // The action helper: pending while running, then the result.
        let (scope, action) = {
            let p = probe.borrow();
            (p.scope.unwrap(), p.action.unwrap())
        };
        dom.in_scope(scope, || action.call("increment", (2,)));
        pump_until(&mut dom, 15, "action result 7 and event 7", || {
            let p = probe.borrow();
            p.count == Some(7) && p.action_value == Some(json!(7)) && !p.action_pending
        })
        .await;

        // Unmount: the lease is released and (grace zero) the socket closes.
        let connection = probe.borrow().connection.clone().unwrap();
        let show = probe.borrow().show.unwrap();
        dom.in_runtime(|| show.clone().set(false));
        pump_until(&mut dom, 15, "connection closed after unmount", || {
            client.manager().connection_count() == 0 && connection.status() == ConnStatus::Idle
        })
        .await;
        assert!(
            connection.state().terminal,
            "closed for good: {:?}",
            connection.state()
        );
        drop(dom);
    });
}

#[test]
fn changing_the_key_signal_reconnects_to_the_new_actor_and_releases_the_old() {
    run(async {
        let client = client();
        let first = unique_key("dioxus-a");
        let second = unique_key("dioxus-b");
        let probe = Shared::default();
        let mut dom = counter_dom(&client, &first, &probe);
        pump_until(&mut dom, 30, "first actor connected", || {
            probe.borrow().status == Some(ConnStatus::Connected)
        })
        .await;
        let old = probe.borrow().connection.clone().unwrap();
        let old_identity = probe.borrow().identity.clone().unwrap();

        let key = probe.borrow().key.unwrap();
        dom.in_runtime(|| key.clone().set(second.clone()));
        pump_until(
            &mut dom,
            30,
            "second actor connected, first released",
            || {
                let identity = probe.borrow().identity.clone();
                identity.is_some_and(|i| i != old_identity && i.contains(&second))
                    && probe.borrow().status == Some(ConnStatus::Connected)
                    && client.manager().connection_count() == 1
                    && old.status() == ConnStatus::Idle
            },
        )
        .await;
    });
}

#[test]
fn rejected_params_show_the_error_and_good_params_connect() {
    run(async {
        let client = client();
        let key = unique_key("dioxus-chat");
        let probe = Shared::default();
        let mut dom = VirtualDom::new_with_props(
            chat_root,
            RootProps {
                client: client.clone(),
                actor_key: key.clone(),
                params: Some(json!({ "token": "wrong", "user": "mallory" })),
                probe: probe.clone(),
            },
        );
        dom.rebuild_in_place();
        pump_until(&mut dom, 30, "rejection in the error signal", || {
            matches!(probe.borrow().error, Some(Error::Rejected(_)))
        })
        .await;
        assert_ne!(probe.borrow().status, Some(ConnStatus::Connected));
        drop(dom);

        let probe = Shared::default();
        let mut dom = VirtualDom::new_with_props(
            chat_root,
            RootProps {
                client: client.clone(),
                actor_key: key,
                params: Some(json!({ "token": "secret", "user": "ada" })),
                probe: probe.clone(),
            },
        );
        dom.rebuild_in_place();
        pump_until(&mut dom, 30, "connected with the good token", || {
            probe.borrow().status == Some(ConnStatus::Connected)
        })
        .await;
    });
}

#[test]
fn rendering_without_effects_opens_nothing_as_on_the_server() {
    run(async {
        let client = client();
        let probe = Shared::default();
        // rebuild without ever pumping: what server-side rendering does.
        let dom = counter_dom(&client, &unique_key("dioxus-ssr"), &probe);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(client.manager().connection_count(), 0);
        assert_eq!(client.manager().opened_total(), 0);
        assert_eq!(probe.borrow().status, Some(ConnStatus::Idle));
        drop(dom);
    });
}

#[test]
fn a_connection_level_error_while_connected_surfaces_at_once() {
    use rivet_test_support::hostile::{HostileGateway, Incoming};
    // A gateway that says Init, then reports a connection-level error and keeps the socket.
    let gateway = HostileGateway::start(|incoming| async move {
        if let Incoming::WebSocket(upgrade) = incoming {
            let mut socket = upgrade.accept().await;
            socket.send_init().await;
            tokio::time::sleep(Duration::from_millis(200)).await;
            socket
                .send_error(None, "user", "kicked", "you were kicked")
                .await;
            socket.serve_actions(|_, _| json!(null)).await;
        }
    });
    run(async move {
        let client = Client::new(gateway.endpoint()).unwrap();
        let probe = Shared::default();
        let mut dom = counter_dom(&client, "kicked", &probe);
        pump_until(&mut dom, 10, "the error is reported", || {
            probe.borrow().error.is_some()
        })
        .await;
        let (error, status) = {
            let probe = probe.borrow();
            (probe.error.clone().unwrap(), probe.status)
        };
        assert_eq!(error.code(), Some("kicked"), "{error:?}");
        assert_eq!(status, Some(ConnStatus::Connected), "the socket stays open");
        drop(dom);
        client.dispose().await;
    });
}
