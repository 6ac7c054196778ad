//! The chat's components against `rivet-testing`'s fake chat room (`rivet_example_actors::fake`,
//! the demo server's `chatRoom` in Rust): no node process, no Rivet engine. The state lives in
//! an `Owner` (`use_chat_room`, as the page has it); the view (`ChatView`) is rendered to HTML
//! with Leptos's `to_html` whenever the test looks, so what is checked is the markup the page
//! shows: the status badge, the message list, the send button and the error line.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::future::Future;
use std::time::{Duration, Instant};

use leptos::prelude::*;
use leptos_chat::{use_chat_room, ChatRoomState, ChatView};
use rivet_core::{Client, ConnStatus};
use rivet_example_actors::fake::html::{has_attribute, text_of};
use rivet_example_actors::{fake, ChatMessage, ChatRoom};
use rivet_leptos::prelude::*;
use rivet_testing::{ActorError, FakeServer, PausedClock};

fn start_fake() -> FakeServer {
    FakeServer::builder()
        .actor(fake::chat_room())
        .start()
        .unwrap()
}

/// Runs `test` on a current-thread runtime inside a `LocalSet`, with Leptos's executor on it.
fn run<F: Future<Output = ()>>(test: F) {
    run_unbounded(async {
        tokio::time::timeout(Duration::from_secs(60), test)
            .await
            .expect("test did not finish within 60 s");
    });
}

/// [`run`] without the overall timeout, for a test that pauses the clock (a tokio timeout
/// would count the skipped backoff): its waits are bounded in real time instead.
fn run_unbounded<F: Future<Output = ()>>(test: F) {
    let _ = any_spawner::Executor::init_tokio();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio::task::LocalSet::new().block_on(&runtime, test);
}

/// A room joined as the page joins it, with its client provided.
struct Mounted {
    owner: Owner,
    chat: ChatRoomState,
}

impl Mounted {
    fn new(client: &Client, room: &str, user: &str, token: &str) -> Self {
        let owner = Owner::new();
        let (room, user, token) = (room.to_owned(), user.to_owned(), token.to_owned());
        let chat = owner.with(|| {
            provide_rivet(client.clone());
            use_chat_room(
                Signal::stored(room),
                Signal::stored(user),
                Signal::stored(token),
            )
        });
        Mounted { owner, chat }
    }

    /// The room's view as the page renders it now (a snapshot: reading the signals outside
    /// a reactive context is the point, so Leptos's warning about it is silenced).
    fn html(&self) -> String {
        let _snapshot = leptos::reactive::diagnostics::SpecialNonReactiveZone::enter();
        self.owner.with(|| {
            let render = Owner::new();
            let chat = self.chat;
            let html = render.with(|| {
                view! { <ChatView chat room=Signal::stored("r".to_owned()) user=Signal::stored("u".to_owned())/> }
                    .to_html()
            });
            render.cleanup();
            // Without the placeholders Leptos leaves for empty or dynamic parts.
            html.replace("<!>", "")
        })
    }

    /// The status badge's word.
    fn status(&self) -> String {
        text_of(&self.html(), "status").expect("no status badge")
    }

    /// The texts of the message list, in order.
    fn texts(&self) -> Vec<String> {
        self.html()
            .split("<span class=\"text\">")
            .skip(1)
            .map(|rest| rest[..rest.find('<').unwrap()].to_owned())
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
}

/// Lets effects and tasks run until `check` holds, for at most 20 seconds.
async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        any_spawner::Executor::tick().await;
        if check() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not true within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
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

#[test]
fn connected_view_shows_history_then_events_and_sent_messages() {
    let server = start_fake();
    run(async {
        let client = client_for(&server);
        post_as(&client, "lobby", "bob", "earlier").await;

        let page = Mounted::new(&client, "lobby", "ada", "secret");
        assert_ne!(page.status(), "connected");
        assert!(page.send_disabled(), "send is disabled until connected");
        until("connected with the history", || {
            page.status() == "connected" && page.texts() == ["earlier"]
        })
        .await;
        assert!(!page.send_disabled());
        assert!(page.html().contains("<b>bob</b>"), "{}", page.html());

        // An event from the room shows up.
        until("subscribed", || {
            server.subscriptions(ChatRoom, "lobby", "message") == 1
        })
        .await;
        let from_carol = ChatMessage {
            user: Some("carol".to_owned()),
            text: "from the server".to_owned(),
        };
        let args = ChatRoom::MESSAGE.encode(&from_carol).unwrap();
        assert_eq!(server.emit(ChatRoom, "lobby", "message", args), 1);
        until("event shown", || {
            page.texts() == ["earlier", "from the server"]
        })
        .await;

        // Sending calls the action once; the message shows once, under the sender's name.
        assert!(!page.chat.say("   ".to_owned()), "blank text is not sent");
        assert!(page.chat.say("hello from ada".to_owned()));
        until("sent message shown", || page.texts().len() == 3).await;
        assert_eq!(
            page.texts(),
            ["earlier", "from the server", "hello from ada"]
        );
        assert!(page.html().contains("<b>ada</b>"), "{}", page.html());
        assert_eq!(server.actions_called(ChatRoom, "lobby", "sendMessage"), 2);
        assert_eq!(
            server
                .state::<Vec<ChatMessage>>(ChatRoom, "lobby")
                .unwrap()
                .len(),
            2,
            "the room stored the two sent messages (the emitted one was only broadcast)"
        );
        assert_eq!(page.error_line(), "");

        page.owner.cleanup();
        until("closed on unmount", || {
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
        let page = Mounted::new(&client, "lobby", "ada", "secret");
        until("connected", || page.status() == "connected").await;

        // The network drops and the room refuses connects for a while: the badge leaves
        // `connected` and says it is trying again; sending is disabled.
        server.refuse_connects(true);
        assert_eq!(server.drop_connections(ChatRoom, "lobby"), 1);
        until("reconnecting view", || {
            matches!(page.status().as_str(), "reconnecting" | "disconnected")
        })
        .await;
        assert!(page.send_disabled());
        let attempts = server.websocket_attempts();
        until("retried while refused", || {
            server.websocket_attempts() > attempts
        })
        .await;
        assert_ne!(page.status(), "connected");

        // Meanwhile someone else posts; once connects are allowed the page reconnects on its
        // own and the history it reloads includes what it missed.
        post_as(&client, "lobby", "bob", "while you were away").await;
        server.refuse_connects(false);
        until("reconnected and caught up", || {
            page.status() == "connected" && page.texts() == ["while you were away"]
        })
        .await;
        assert!(!page.send_disabled());
        assert_eq!(server.connections(ChatRoom, "lobby"), 1);
        page.owner.cleanup();
    });
}

#[test]
fn wrong_token_shows_the_rejected_view() {
    let server = start_fake();
    run(async {
        let client = client_for(&server);
        let page = Mounted::new(&client, "lobby", "mallory", "nope");
        until("rejected", || page.status() == "error").await;
        let error = page.error_line();
        assert!(
            error.contains("unauthorized") && error.contains("bad token"),
            "{error}"
        );
        assert!(page.send_disabled());
        assert_eq!(server.connections(ChatRoom, "lobby"), 0);
        assert!(page.texts().is_empty());
        page.owner.cleanup();
    });
}

#[test]
fn failed_send_shows_the_action_error() {
    let server = start_fake();
    run(async {
        let client = client_for(&server);
        let page = Mounted::new(&client, "lobby", "ada", "secret");
        until("connected", || page.status() == "connected").await;

        server.fail_next_action(
            ChatRoom,
            "sendMessage",
            ActorError::user("muted", "you are muted"),
        );
        assert!(page.chat.say("let me speak".to_owned()));
        until("error shown", || {
            page.error_line().contains("you are muted")
        })
        .await;
        assert!(page.texts().is_empty(), "a failed message is not shown");
        assert_eq!(
            page.status(),
            "connected",
            "an action error leaves the connection up"
        );

        // The next send works and clears the error.
        assert!(page.chat.say("please".to_owned()));
        until("sent", || page.texts() == ["please"]).await;
        until("error cleared", || page.error_line().is_empty()).await;
        page.owner.cleanup();
    });
}

/// Like [`until`], for a paused clock: real time passes in `clock.settle`, deadlines are real.
async fn until_paused(clock: &PausedClock, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        any_spawner::Executor::tick().await;
        if check() {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: not true within 20 s");
        clock.settle(Duration::from_millis(5)).await;
    }
}

#[test]
fn reconnect_backoff_is_skipped_with_a_paused_clock() {
    let server = start_fake();
    run_unbounded(async {
        let client = client_for(&server);
        let page = Mounted::new(&client, "lobby", "ada", "secret");
        until("connected", || page.status() == "connected").await;

        // From here the client's timers wait for the test: ten refused reconnects whose
        // backoff adds up to a minute or more take well under that in real time.
        let clock = PausedClock::pause().unwrap();
        let real_start = Instant::now();
        let virtual_start = tokio::time::Instant::now();
        server.refuse_connects(true);
        assert_eq!(server.drop_connections(ChatRoom, "lobby"), 1);
        let mut delays = Vec::new();
        let mut last_attempt = None;
        for attempt in 0..10 {
            // A new retry scheduled: `attempt` counts the failures since the last healthy
            // connection (a refused connect is one).
            let mut retry_in = None;
            until_paused(&clock, "a retry scheduled", || {
                let state = page.chat.actor.state().get_untracked();
                retry_in = state
                    .next_retry_in
                    .filter(|_| state.status == ConnStatus::Disconnected);
                retry_in.is_some() && last_attempt.is_none_or(|last| state.attempt > last)
            })
            .await;
            last_attempt = Some(page.chat.actor.state().get_untracked().attempt);
            assert_eq!(page.status(), "disconnected", "attempt {attempt}");
            assert!(page.send_disabled());
            let retry_in = retry_in.unwrap();
            let attempts = server.websocket_attempts();
            clock.advance(retry_in).await;
            until_paused(&clock, "retried", || server.websocket_attempts() > attempts).await;
            delays.push(retry_in);
        }
        // The backoff grows (jitter only ever shortens a delay, by up to half).
        assert!(delays[9] > delays[1] * 4, "{delays:?}");
        let waited: Duration = delays.iter().sum();
        assert!(waited >= Duration::from_secs(20), "{delays:?}");
        assert!(tokio::time::Instant::now() - virtual_start >= waited);

        // Connects are allowed again: the next retry, skipped to as well, reconnects.
        server.refuse_connects(false);
        // (The retry in flight may already get through.)
        until_paused(&clock, "the next retry scheduled", || {
            let state = page.chat.actor.state().get_untracked();
            state.status == ConnStatus::Connected
                || (state.next_retry_in.is_some()
                    && last_attempt.is_none_or(|last| state.attempt > last))
        })
        .await;
        if let Some(retry_in) = page.chat.actor.state().get_untracked().next_retry_in {
            clock.advance(retry_in).await;
        }
        until_paused(&clock, "connected again", || page.status() == "connected").await;
        eprintln!(
            "skipped {waited:?} of backoff ({delays:?}) in {:?} of real time",
            real_start.elapsed()
        );
        assert!(
            real_start.elapsed() < waited,
            "{:?} of backoff took {:?} of real time",
            waited,
            real_start.elapsed()
        );
        page.owner.cleanup();
        drop(clock);
    });
}
