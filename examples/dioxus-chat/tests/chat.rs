//! The chat's components against `rivet-testing`'s fake chat room (`rivet_example_actors::fake`,
//! the demo server's `chatRoom` in Rust): no node process, no Rivet engine. The test drives a
//! native `VirtualDom` of the page's `ChatView` and renders it with `dioxus-ssr` whenever it
//! looks, so what is checked is the markup the page shows: the status badge, the message list,
//! the send button and the error line.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use dioxus::core::NoOpMutations;
use dioxus::prelude::*;
use dioxus_chat::{use_chat_room, ChatRoomState, ChatView};
use rivet_core::{Client, ConnStatus, ConnectionState};
use rivet_dioxus::use_rivet_provider;
use rivet_example_actors::fake::html::{has_attribute, text_of};
use rivet_example_actors::{fake, ChatMessage, ChatRoom};
use rivet_testing::{ActorError, FakeServer, PausedClock};

fn start_fake() -> FakeServer {
    FakeServer::builder()
        .actor(fake::chat_room())
        .start()
        .unwrap()
}

/// Where the test finds the room's state, to send as the composer does.
type Probe = Rc<RefCell<Option<ChatRoomState>>>;

#[derive(Clone, Props)]
struct PageProps {
    client: Client,
    room: String,
    user: String,
    token: String,
    probe: Probe,
}

impl PartialEq for PageProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.probe, &other.probe)
    }
}

/// The page's `Chat`, with the client provided and the state handed to the test.
#[allow(non_snake_case)]
fn Page(props: PageProps) -> Element {
    let client = props.client.clone();
    use_rivet_provider(move || client);
    let room = use_signal(|| props.room.clone());
    let user = use_signal(|| props.user.clone());
    let token = use_signal(|| props.token.clone());
    let chat = use_chat_room(room.into(), user.into(), token.into());
    *props.probe.borrow_mut() = Some(chat);
    rsx! { ChatView { chat, room, user } }
}

struct Mounted {
    dom: VirtualDom,
    probe: Probe,
}

impl Mounted {
    fn new(client: &Client, room: &str, user: &str, token: &str) -> Self {
        let probe = Probe::default();
        let mut dom = VirtualDom::new_with_props(
            Page,
            PageProps {
                client: client.clone(),
                room: room.to_owned(),
                user: user.to_owned(),
                token: token.to_owned(),
                probe: probe.clone(),
            },
        );
        dom.rebuild_in_place();
        Mounted { dom, probe }
    }

    fn html(&self) -> String {
        dioxus_ssr::render(&self.dom)
    }

    /// Sends `text` as the composer's Enter would.
    fn say(&mut self, text: &str) -> bool {
        let chat = (*self.probe.borrow()).expect("mounted");
        self.dom
            .in_scope(ScopeId::ROOT, || chat.say(text.to_owned()))
    }

    /// The status badge's word.
    fn status(&self) -> String {
        text_of(&self.html(), "status").expect("no status badge")
    }

    /// The lines of the message list: `user: text`.
    fn lines(&self) -> Vec<String> {
        self.html()
            .split("<li class=\"message\"")
            .skip(1)
            .map(|rest| {
                let item = &rest[rest.find('>').unwrap() + 1..rest.find("</li>").unwrap()];
                item.replace("<b>", "")
                    .replace("</b>", "")
                    .replace("<!--#-->", "")
            })
            .collect()
    }

    /// The error line; empty when there is none.
    fn error_line(&self) -> String {
        text_of(&self.html(), "error").unwrap_or_default()
    }

    /// Whether the send button is disabled.
    fn send_disabled(&self) -> bool {
        has_attribute(&self.html(), "send", "disabled")
    }

    /// The connection's state, as the hook reports it.
    fn state(&self) -> ConnectionState {
        let chat = (*self.probe.borrow()).expect("mounted");
        self.dom.in_runtime(|| chat.actor.state().cloned())
    }

    /// Like [`until`](Self::until) on a paused clock: real time passes in `clock.settle`.
    async fn until_paused(
        &mut self,
        clock: &PausedClock,
        what: &str,
        mut done: impl FnMut(&Self) -> bool,
    ) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            tokio::select! {
                () = self.dom.wait_for_work() => {}
                () = clock.settle(Duration::from_millis(5)) => {}
            }
            self.dom.render_immediate(&mut NoOpMutations);
            if done(self) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: not reached within 20 s; the page shows {}",
                self.html()
            );
        }
    }

    /// Drives the `VirtualDom` until `done` holds, for at most 20 seconds.
    async fn until(&mut self, what: &str, mut done: impl FnMut(&Self) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let _ = tokio::time::timeout(Duration::from_millis(20), self.dom.wait_for_work()).await;
            self.dom.render_immediate(&mut NoOpMutations);
            if done(self) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: not reached within 20 s; the page shows {}",
                self.html()
            );
        }
    }
}

/// Runs `test` on a current-thread runtime (the one tokio can pause the clock of), bounded
/// by 60 s.
fn run(test: impl std::future::Future<Output = ()>) {
    run_unbounded(async {
        tokio::time::timeout(Duration::from_secs(60), test)
            .await
            .expect("test did not finish within 60 s");
    });
}

/// [`run`] without the overall timeout, for a test that pauses the clock (a tokio timeout
/// would count the skipped backoff): its waits are bounded in real time instead.
fn run_unbounded(test: impl std::future::Future<Output = ()>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(test);
}

fn client_for(server: &FakeServer) -> Client {
    let client = Client::new(server.endpoint()).unwrap();
    client.manager().set_grace_period(Duration::ZERO);
    client
}

/// Posts `text` as `user` without a connection (a stateless call), as another visitor would.
async fn post_as(client: &Client, room: &str, user: &str, text: &str) {
    fake::post_as(client, room, user, text).await.unwrap();
}

async fn until_server(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(Instant::now() < deadline, "{what}: not true within 20 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[test]
fn connected_view_shows_history_then_events_and_sent_messages() {
    let server = start_fake();
    run(async {
        let client = client_for(&server);
        post_as(&client, "lobby", "bob", "earlier").await;

        let mut page = Mounted::new(&client, "lobby", "ada", "secret");
        assert_ne!(page.status(), "connected");
        assert!(page.send_disabled(), "send is disabled until connected");
        page.until("connected with the history", |p| {
            p.status() == "connected" && p.lines() == ["bob: earlier"]
        })
        .await;
        assert!(!page.send_disabled());

        // An event from the room shows up.
        page.until("subscribed", |_| {
            server.subscriptions(ChatRoom, "lobby", "message") == 1
        })
        .await;
        let from_carol = ChatMessage {
            user: Some("carol".to_owned()),
            text: "from the server".to_owned(),
        };
        let args = ChatRoom::MESSAGE.encode(&from_carol).unwrap();
        assert_eq!(server.emit(ChatRoom, "lobby", "message", args), 1);
        page.until("event shown", |p| {
            p.lines() == ["bob: earlier", "carol: from the server"]
        })
        .await;

        // Sending calls the action once; the message shows once, under the sender's name.
        assert!(!page.say("   "), "blank text is not sent");
        assert!(page.say("hello from ada"));
        page.until("sent message shown", |p| p.lines().len() == 3)
            .await;
        assert_eq!(
            page.lines(),
            [
                "bob: earlier",
                "carol: from the server",
                "ada: hello from ada"
            ]
        );
        assert_eq!(server.actions_called(ChatRoom, "lobby", "sendMessage"), 2);
        assert_eq!(page.error_line(), "");

        drop(page);
        until_server("closed on unmount", || {
            server.connections(ChatRoom, "lobby") == 0
        })
        .await;
    });
}

#[test]
fn dropped_connection_shows_reconnecting_then_catches_up() {
    let server = start_fake();
    run(async {
        let client = client_for(&server);
        let mut page = Mounted::new(&client, "lobby", "ada", "secret");
        page.until("connected", |p| p.status() == "connected").await;

        // The network drops and the room refuses connects for a while: the badge leaves
        // `connected` and says it is trying again; sending is disabled.
        server.refuse_connects(true);
        assert_eq!(server.drop_connections(ChatRoom, "lobby"), 1);
        page.until("reconnecting view", |p| {
            matches!(p.status().as_str(), "reconnecting" | "disconnected")
        })
        .await;
        assert!(page.send_disabled());
        let attempts = server.websocket_attempts();
        page.until("retried while refused", |_| {
            server.websocket_attempts() > attempts
        })
        .await;
        assert_ne!(page.status(), "connected");

        // Meanwhile someone else posts; once connects are allowed the page reconnects on its
        // own and the history it reloads includes what it missed.
        post_as(&client, "lobby", "bob", "while you were away").await;
        server.refuse_connects(false);
        page.until("reconnected and caught up", |p| {
            p.status() == "connected" && p.lines() == ["bob: while you were away"]
        })
        .await;
        assert!(!page.send_disabled());
        assert_eq!(server.connections(ChatRoom, "lobby"), 1);
    });
}

#[test]
fn wrong_token_shows_the_rejected_view() {
    let server = start_fake();
    run(async {
        let client = client_for(&server);
        let mut page = Mounted::new(&client, "lobby", "mallory", "nope");
        page.until("rejected", |p| p.status() == "error").await;
        let error = page.error_line();
        assert!(
            error.contains("unauthorized") && error.contains("bad token"),
            "{error}"
        );
        assert!(page.send_disabled());
        assert_eq!(server.connections(ChatRoom, "lobby"), 0);
        assert!(page.lines().is_empty());
    });
}

#[test]
fn failed_send_shows_the_action_error() {
    let server = start_fake();
    run(async {
        let client = client_for(&server);
        let mut page = Mounted::new(&client, "lobby", "ada", "secret");
        page.until("connected", |p| p.status() == "connected").await;

        server.fail_next_action(
            ChatRoom,
            "sendMessage",
            ActorError::user("muted", "you are muted"),
        );
        assert!(page.say("let me speak"));
        page.until("error shown", |p| {
            p.error_line().contains("send failed") && p.error_line().contains("you are muted")
        })
        .await;
        assert!(page.lines().is_empty(), "a failed message is not shown");
        assert_eq!(
            page.status(),
            "connected",
            "an action error leaves the connection up"
        );

        // The next send works and clears the error.
        assert!(page.say("please"));
        page.until("sent and error cleared", |p| {
            p.lines() == ["ada: please"] && p.error_line().is_empty()
        })
        .await;
    });
}

#[test]
fn reconnect_backoff_is_skipped_with_a_paused_clock() {
    let server = start_fake();
    run_unbounded(async {
        let client = client_for(&server);
        let mut page = Mounted::new(&client, "lobby", "ada", "secret");
        page.until("connected", |p| p.status() == "connected").await;

        // From here the client's timers wait for the test: eight refused reconnects whose
        // backoff adds up to half a minute or more take a fraction of that in real time.
        let clock = PausedClock::pause().unwrap();
        let real_start = Instant::now();
        server.refuse_connects(true);
        assert_eq!(server.drop_connections(ChatRoom, "lobby"), 1);
        let mut delays = Vec::new();
        let mut last_attempt = None;
        for _ in 0..8 {
            // A new retry scheduled (`attempt` counts failures since the last healthy
            // connection; a refused connect is one).
            page.until_paused(&clock, "a retry scheduled", |p| {
                let state = p.state();
                state.status == ConnStatus::Disconnected
                    && state.next_retry_in.is_some()
                    && last_attempt.is_none_or(|last| state.attempt > last)
            })
            .await;
            let state = page.state();
            last_attempt = Some(state.attempt);
            assert_eq!(page.status(), "disconnected");
            assert!(page.send_disabled());
            let retry_in = state.next_retry_in.unwrap();
            let attempts = server.websocket_attempts();
            clock.advance(retry_in).await;
            page.until_paused(&clock, "retried", |_| {
                server.websocket_attempts() > attempts
            })
            .await;
            delays.push(retry_in);
        }
        let waited: Duration = delays.iter().sum();
        assert!(delays[7] > delays[1] * 4, "{delays:?}");
        assert!(waited >= Duration::from_secs(10), "{delays:?}");

        // Connects are allowed again: the next retry, skipped to as well, reconnects and the
        // history comes back. (The retry in flight may already get through.)
        post_as(&client, "lobby", "bob", "while you were away").await;
        server.refuse_connects(false);
        page.until_paused(&clock, "the next retry scheduled", |p| {
            let state = p.state();
            state.status == ConnStatus::Connected
                || (state.next_retry_in.is_some()
                    && last_attempt.is_none_or(|last| state.attempt > last))
        })
        .await;
        if let Some(retry_in) = page.state().next_retry_in {
            clock.advance(retry_in).await;
        }
        page.until_paused(&clock, "connected again with the history", |p| {
            p.status() == "connected" && p.lines() == ["bob: while you were away"]
        })
        .await;
        eprintln!(
            "skipped {waited:?} of backoff ({delays:?}) in {:?} of real time",
            real_start.elapsed()
        );
        assert!(real_start.elapsed() < waited);
    });
}
