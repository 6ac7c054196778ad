//! The typed hooks in a native `VirtualDom` against the real RivetKit server, and the Dioxus
//! lifecycle gap of issue 15: an acquisition that failed (no runtime yet) is tried again.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use dioxus::core::{current_scope_id, NoOpMutations, ScopeId};
use dioxus::prelude::*;
use rivet_core::manager::ActorOptions;
use rivet_core::{Client, ConnStatus, Error};
use rivet_dioxus::{
    use_action, use_actor, use_actor_with, use_event, use_latest_event, use_rivet_provider,
    UseAction, UseActor,
};
use rivet_test_support::{unique_key, TestServer};

#[rivet_core::actor]
pub trait Counter {
    fn increment(amount: i64) -> i64;
    fn get_count() -> i64;
    #[event]
    fn new_count(count: i64);
    #[event(name = "newCount")]
    fn new_count_as_text(count: String);
}

/// The counter again, with params (the server ignores them) and its `disconnectMe` action.
#[rivet_core::actor(name = "counter")]
pub trait CounterWithParams {
    type Params = serde_json::Value;
    fn disconnect_me() -> bool;
    fn get_count() -> i64;
}

#[derive(Default)]
struct Probe {
    show: Option<Signal<bool>>,
    tick: Option<Signal<u32>>,
    scope: Option<ScopeId>,
    actor: Option<UseActor<Counter>>,
    action: Option<UseAction<(i64,), i64>>,
    status: Option<ConnStatus>,
    error: Option<Error>,
    count: Option<i64>,
    latest: Option<i64>,
    action_value: Option<i64>,
    action_pending: bool,
    texts: Vec<String>,
}

type Shared = Rc<RefCell<Probe>>;

#[derive(Clone, Props)]
struct RootProps {
    client: Client,
    actor_key: String,
    probe: Shared,
    /// Also listen to `newCount` as text, which does not decode.
    mismatched: bool,
}

impl PartialEq for RootProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.probe, &other.probe)
    }
}

fn root(props: RootProps) -> Element {
    let client = props.client.clone();
    use_rivet_provider(move || client);
    let show = use_signal(|| true);
    let tick = use_signal(|| 0u32);
    {
        let mut probe = props.probe.borrow_mut();
        probe.show = Some(show);
        probe.tick = Some(tick);
    }
    rsx! {
        if show() {
            CounterView { actor_key: props.actor_key.clone(), tick, probe: props.probe.clone(), mismatched: props.mismatched }
        }
    }
}

#[derive(Clone, Props)]
struct ViewProps {
    actor_key: String,
    tick: ReadSignal<u32>,
    probe: Shared,
    mismatched: bool,
}

impl PartialEq for ViewProps {
    fn eq(&self, other: &Self) -> bool {
        self.actor_key == other.actor_key && Rc::ptr_eq(&self.probe, &other.probe)
    }
}

#[allow(non_snake_case)]
fn CounterView(props: ViewProps) -> Element {
    // Read so that changing it re-renders this component.
    let _tick = (props.tick)();
    let counter = use_actor(Counter, props.actor_key.as_str());
    let mut count = use_signal(|| None::<i64>);
    use_event(&counter, Counter::NEW_COUNT, move |n| count.set(Some(n)));
    let latest = use_latest_event(&counter, Counter::NEW_COUNT);
    if props.mismatched {
        let probe = props.probe.clone();
        use_event(&counter, Counter::NEW_COUNT_AS_TEXT, move |text| {
            probe.borrow_mut().texts.push(text)
        });
    }
    let increment = use_action(&counter, Counter::INCREMENT);
    let mut probe = props.probe.borrow_mut();
    probe.scope = Some(current_scope_id());
    probe.actor = Some(counter);
    probe.action = Some(increment);
    probe.status = Some(counter.status()());
    probe.error = counter.error().cloned();
    probe.count = count();
    probe.latest = latest();
    probe.action_value = increment.value()();
    probe.action_pending = increment.pending()();
    rsx! {}
}

fn run<F: std::future::Future<Output = ()>>(f: F) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(90), f)
            .await
            .expect("test did not finish within 90 s");
    });
}

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

/// [`pump_until`] for checks that read the `VirtualDom` itself.
async fn pump_with(
    dom: &mut VirtualDom,
    secs: u64,
    what: &str,
    mut done: impl FnMut(&VirtualDom) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done(dom) {
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

fn dom(client: &Client, key: &str, probe: &Shared) -> VirtualDom {
    dom_with(client, key, probe, false)
}

fn dom_with(client: &Client, key: &str, probe: &Shared, mismatched: bool) -> VirtualDom {
    VirtualDom::new_with_props(
        root,
        RootProps {
            client: client.clone(),
            actor_key: key.to_owned(),
            probe: probe.clone(),
            mismatched,
        },
    )
}

/// Creates the counter through a retried stateless call first (a busy engine may time out
/// the first socket route to a new actor).
async fn create_counter(client: &Client, key: &str) {
    client
        .get_or_create(Counter, key)
        .get_count()
        .await
        .unwrap();
}

#[test]
fn typed_actions_events_and_action_hook() {
    run(async {
        let client = client();
        let key = unique_key("dioxus-typed");
        create_counter(&client, &key).await;
        let probe = Shared::default();
        let mut dom = dom(&client, &key, &probe);
        dom.rebuild_in_place();
        pump_until(&mut dom, 30, "connected", || {
            probe.borrow().status == Some(ConnStatus::Connected)
        })
        .await;
        let counter = probe.borrow().actor.unwrap();
        // Reading signals needs the `VirtualDom`'s runtime, as in a component.
        assert!(dom.in_runtime(|| counter.is_connected().cloned()));
        let connection = dom.in_runtime(|| counter.connection()).unwrap();
        pump_until(&mut dom, 10, "subscribed", || {
            connection.listener_count() >= 2
        })
        .await;

        // The actions are methods of the hook value.
        assert_eq!(counter.increment(2).await.unwrap(), 2);
        pump_until(&mut dom, 15, "event 2 in the signals", || {
            let p = probe.borrow();
            p.count == Some(2) && p.latest == Some(2)
        })
        .await;

        let (scope, action) = {
            let p = probe.borrow();
            (p.scope.unwrap(), p.action.unwrap())
        };
        dom.in_scope(scope, || action.dispatch((3,)));
        pump_until(&mut dom, 15, "action value 5", || {
            let p = probe.borrow();
            p.action_value == Some(5) && !p.action_pending && p.latest == Some(5)
        })
        .await;
        let handle = dom.in_runtime(|| counter.handle()).unwrap();
        assert_eq!(handle.get_count().await.unwrap(), 5);

        let show = probe.borrow().show.unwrap();
        dom.in_runtime(|| show.clone().set(false));
        pump_until(&mut dom, 15, "closed after unmount", || {
            client.manager().connection_count() == 0
        })
        .await;
        let after = tokio::time::timeout(Duration::from_secs(10), counter.increment(1))
            .await
            .expect("a call after unmount fails at once");
        assert!(
            matches!(after, Err(Error::InvalidInput { .. })),
            "{after:?}"
        );
    });
}

/// An event payload that does not match its declaration shows in the hook's `error` (and is
/// not passed to the handler); the connection stays up.
#[test]
fn a_mismatched_event_payload_shows_in_the_hooks_error() {
    run(async {
        let client = client();
        let key = unique_key("dioxus-event-mismatch");
        create_counter(&client, &key).await;
        let probe = Shared::default();
        let mut dom = dom_with(&client, &key, &probe, true);
        dom.rebuild_in_place();
        pump_until(&mut dom, 30, "connected", || {
            probe.borrow().status == Some(ConnStatus::Connected)
        })
        .await;
        let counter = probe.borrow().actor.unwrap();
        let connection = dom.in_runtime(|| counter.connection()).unwrap();
        pump_until(&mut dom, 10, "subscribed", || {
            connection.listener_count() >= 3
        })
        .await;
        assert_eq!(counter.increment(1).await.unwrap(), 1);
        pump_until(&mut dom, 15, "the decode error in error()", || {
            probe.borrow().error.is_some()
        })
        .await;
        let p = probe.borrow();
        let error = p.error.as_ref().unwrap().to_string();
        assert!(
            error.contains("newCount") && error.contains("String"),
            "{error}"
        );
        assert!(p.texts.is_empty(), "{:?}", p.texts);
        assert_eq!(p.count, Some(1));
        assert_eq!(p.status, Some(ConnStatus::Connected));
    });
}

type Calls = std::sync::Arc<std::sync::atomic::AtomicU32>;
type ParamsProbe = Rc<RefCell<Option<UseActor<CounterWithParams>>>>;

#[derive(Clone, Props)]
struct ParamsRootProps {
    client: Client,
    actor_key: String,
    calls: Calls,
    out: ParamsProbe,
}

impl PartialEq for ParamsRootProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.out, &other.out)
    }
}

fn params_root(props: ParamsRootProps) -> Element {
    let client = props.client.clone();
    use_rivet_provider(move || client);
    rsx! { ParamsView { actor_key: props.actor_key.clone(), calls: props.calls.clone(), out: props.out.clone() } }
}

#[derive(Clone, Props)]
struct ParamsViewProps {
    actor_key: String,
    calls: Calls,
    out: ParamsProbe,
}

impl PartialEq for ParamsViewProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.out, &other.out)
    }
}

#[allow(non_snake_case)]
fn ParamsView(props: ParamsViewProps) -> Element {
    let (key, calls) = (props.actor_key.clone(), props.calls.clone());
    let counter = use_actor_with(move || {
        let calls = calls.clone();
        ActorOptions::new(CounterWithParams, key.as_str()).params_fn(&"gen", move || {
            let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move { Ok(serde_json::json!({ "token": format!("token-{n}") })) }
        })
    });
    // Read so that state changes re-render.
    let _ = counter.status()();
    *props.out.borrow_mut() = Some(counter);
    rsx! {}
}

/// With a params function the hook's stateless handle follows the connection: after a
/// reconnect (which calls the function again) it carries the new value, so a refreshed
/// token reaches stateless calls too.
#[test]
fn the_handle_follows_a_params_function_across_reconnects() {
    run(async {
        let client = client();
        let key = unique_key("dioxus-params-refresh");
        create_counter(&client, &key).await;
        let out = ParamsProbe::default();
        let mut dom = VirtualDom::new_with_props(
            params_root,
            ParamsRootProps {
                client: client.clone(),
                actor_key: key.clone(),
                calls: Calls::default(),
                out: out.clone(),
            },
        );
        dom.rebuild_in_place();
        pump_until(&mut dom, 30, "mounted", || out.borrow().is_some()).await;
        let counter = out.borrow().unwrap();
        let token = |dom: &VirtualDom| {
            dom.in_runtime(|| counter.handle()).and_then(|h| {
                h.params()
                    .and_then(|p| p["token"].as_str().map(str::to_owned))
            })
        };
        pump_with(&mut dom, 30, "connected with a handle", |dom| {
            dom.in_runtime(|| counter.is_connected().cloned()) && token(dom).is_some()
        })
        .await;
        let first = token(&dom).unwrap();
        // The server closes the socket (close 1000); the connection reconnects, calling the
        // params function again. The answer may be lost with the socket.
        let _ = counter.disconnect_me().await;
        pump_with(&mut dom, 30, "the handle has fresh params", |dom| {
            token(dom).is_some_and(|t| t != first)
        })
        .await;
        let handle = dom.in_runtime(|| counter.handle()).unwrap();
        assert!(handle.get_count().await.is_ok());
        drop(dom);
    });
}

/// Gap 2: when `acquire` failed (here: the effect ran before any tokio runtime existed),
/// the same identity was never tried again.
#[test]
fn a_failed_acquisition_is_tried_again_on_the_next_render() {
    let client = client();
    let key = unique_key("dioxus-no-runtime");
    let probe = Shared::default();
    // No tokio runtime on this thread: the effect runs, and acquiring fails.
    let mut dom = dom(&client, &key, &probe);
    dom.rebuild_in_place();
    dom.process_events();
    dom.render_immediate(&mut NoOpMutations);
    let error = probe.borrow().error.clone();
    assert!(
        matches!(
            error,
            Some(Error::InvalidInput {
                field: "runtime",
                ..
            })
        ),
        "{error:?}"
    );
    assert_eq!(client.manager().connection_count(), 0);

    run(async move {
        create_counter(&client, &key).await;
        // Any later render (here: an unrelated signal) tries the same identity again.
        let tick = probe.borrow().tick.unwrap();
        dom.in_runtime(|| tick.clone().set(1));
        pump_until(&mut dom, 30, "connected on the next render", || {
            probe.borrow().status == Some(ConnStatus::Connected)
        })
        .await;
        assert_eq!(client.manager().connection_count(), 1);
        drop(dom);
    });
}
