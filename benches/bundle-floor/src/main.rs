//! The smallest RivetKit counter client imaginable, to measure what the framework, one
//! WebSocket and serde_json cost on their own: connect by key, subscribe to `newCount`, call
//! `getCount` / `increment`, reconnect after a second. No deadlines, no error types, no
//! addressing beyond one URL, no other encoding: a size floor, not a client.
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, WebSocket};

#[derive(Serialize)]
struct Out<'a> {
    body: OutBody<'a>,
}

#[derive(Serialize)]
#[serde(tag = "tag", content = "val")]
enum OutBody<'a> {
    ActionRequest {
        id: u64,
        name: &'a str,
        args: Vec<i64>,
    },
    SubscriptionRequest {
        #[serde(rename = "eventName")]
        event_name: &'a str,
        subscribe: bool,
    },
}

#[derive(Deserialize)]
struct In {
    body: InBody,
}

#[derive(Deserialize)]
#[serde(tag = "tag", content = "val")]
enum InBody {
    Init {},
    ActionResponse {
        output: i64,
    },
    Event {
        args: Vec<i64>,
    },
    Error {
        group: String,
        code: String,
        message: String,
    },
}

#[derive(Clone)]
struct Conn {
    socket: Rc<RefCell<Option<WebSocket>>>,
    next_id: Rc<Cell<u64>>,
    closed: Rc<Cell<bool>>,
}

impl Conn {
    fn send(&self, body: OutBody<'_>) {
        if let Some(socket) = self.socket.borrow().as_ref() {
            if let Ok(text) = serde_json::to_string(&Out { body }) {
                let _ = socket.send_with_str(&text);
            }
        }
    }
    fn call(&self, name: &str, args: Vec<i64>) {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        self.send(OutBody::ActionRequest { id, name, args });
    }
}

fn connect(
    url: String,
    conn: Conn,
    status: RwSignal<&'static str>,
    count: RwSignal<Option<i64>>,
    error: RwSignal<Option<String>>,
) {
    let Ok(socket) =
        WebSocket::new_with_str_sequence(&url, &js_sys_array(&["rivet", "rivet_encoding.json"]))
    else {
        status.set("error");
        return;
    };
    status.set("connecting");
    let on_message = {
        let conn = conn.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(text) = event.data().as_string() else {
                return;
            };
            match serde_json::from_str::<In>(&text).map(|m| m.body) {
                Ok(InBody::Init {}) => {
                    status.set("connected");
                    conn.send(OutBody::SubscriptionRequest {
                        event_name: "newCount",
                        subscribe: true,
                    });
                    conn.call("getCount", Vec::new());
                }
                Ok(InBody::ActionResponse { output }) => count.set(Some(output)),
                Ok(InBody::Event { args }) => count.set(args.first().copied()),
                Ok(InBody::Error {
                    group,
                    code,
                    message,
                }) => error.set(Some(format!("{group}.{code}: {message}"))),
                Err(e) => error.set(Some(e.to_string())),
            }
        })
    };
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let on_close = {
        let conn = conn.clone();
        Closure::<dyn FnMut()>::new(move || {
            if conn.closed.get() {
                return;
            }
            status.set("reconnecting");
            let (url, conn) = (url.clone(), conn.clone());
            gloo_timers::callback::Timeout::new(1_000, move || {
                connect(url, conn, status, count, error)
            })
            .forget();
        })
    };
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    on_close.forget();
    *conn.socket.borrow_mut() = Some(socket);
}

fn js_sys_array(items: &[&str]) -> JsValue {
    let array = js_sys::Array::new();
    for item in items {
        array.push(&JsValue::from_str(item));
    }
    array.into()
}

fn query(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
        .filter(|v| !v.is_empty())
}

#[component]
fn Counter(key: String) -> impl IntoView {
    let endpoint = query("endpoint").unwrap_or_else(|| "http://127.0.0.1:6420".to_owned());
    let url = format!(
        "{}/gateway/counter/connect?rvt-namespace=default&rvt-method=getOrCreate&rvt-runner=default&rvt-key={}&rvt-crash-policy=sleep",
        endpoint.replacen("http", "ws", 1),
        js_sys::encode_uri_component(&key)
    );
    let (status, count, error) = (
        RwSignal::new("idle"),
        RwSignal::new(None::<i64>),
        RwSignal::new(None::<String>),
    );
    let conn = Conn {
        socket: Rc::default(),
        next_id: Rc::default(),
        closed: Rc::default(),
    };
    connect(url, conn.clone(), status, count, error);
    let conn = StoredValue::new_local(conn);
    on_cleanup(move || {
        conn.with_value(|conn| {
            conn.closed.set(true);
            if let Some(socket) = conn.socket.borrow_mut().take() {
                let _ = socket.close();
            }
        })
    });
    view! {
        <section class="card">
            <span class="status">{move || status.get()}</span>
            <p id="count">{move || count.get().map_or_else(|| "…".to_owned(), |n| n.to_string())}</p>
            <button id="increment" on:click=move |_| conn.with_value(|c| c.call("increment", vec![1]))>"+1"</button>
            <button id="increment5" on:click=move |_| conn.with_value(|c| c.call("increment", vec![5]))>"+5"</button>
        </section>
        <p class="error" id="error">{move || error.get()}</p>
    }
}

#[component]
fn App() -> impl IntoView {
    let shown = RwSignal::new(true);
    let key = query("key").unwrap_or_else(|| "leptos-counter".to_owned());
    view! {
        <main>
            <Show when=move || shown.get() fallback=|| view! { <p id="unmounted">"unmounted"</p> }>
                <Counter key=key.clone()/>
            </Show>
            <button id="toggle" on:click=move |_| shown.update(|s| *s = !*s)>"toggle"</button>
        </main>
    }
}

fn main() {
    leptos::mount::mount_to_body(App);
}
