//! The in-memory I/O of a [`FakeServer`](crate::FakeServer): a
//! [`rivet_core::test_transport::Transport`] that hands each request and WebSocket message
//! to the protocol logic (`protocol.rs`) directly, with no sockets, on every target (in the
//! browser it is the only way a test can serve actors).
//!
//! A request is answered synchronously. A WebSocket is a pair of halves over one shared
//! state: the client's messages are handled as they are sent (an action runs inside the
//! client's `send`), and the stream yields what that queued, then the connection's commands
//! (events, closes and drops from the controls or from other connections' actions).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use futures::{Sink, Stream, StreamExt};
use rivet_core::runtime::BoxFuture;
use rivet_core::test_transport::{
    ClientFrame, Connect, Failure, Request, Response, ServerFrame, Socket, Transport,
};

use crate::protocol::{self, lock, Admitted, Head, Out, Session, Shared, MAX_BODY};
use crate::wire::Frame;
use crate::ActorError;

/// The endpoint of an in-memory server: never resolved, only used to build URLs.
pub(crate) const ENDPOINT: &str = "http://rivet-testing.invalid";

/// A [`FakeServer`](crate::FakeServer)'s actors as a client transport.
pub(crate) struct MemoryTransport {
    pub(crate) shared: Arc<Shared>,
}

impl MemoryTransport {
    fn stopped(&self) -> Option<Failure> {
        self.shared
            .stopped
            .load(Ordering::SeqCst)
            .then(|| Failure::connect("the in-memory fake server was dropped"))
    }
}

impl Transport for MemoryTransport {
    fn request(&self, request: Request) -> BoxFuture<'static, Result<Response, Failure>> {
        let answer = match self.stopped() {
            Some(failure) => Err(failure),
            None => Ok(self.answer(request)),
        };
        Box::pin(async move { answer })
    }

    fn connect(&self, connect: Connect) -> BoxFuture<'static, Result<Socket, Failure>> {
        let socket = match self.stopped() {
            Some(failure) => Err(failure),
            None => Ok(self.open(connect)),
        };
        Box::pin(async move { socket })
    }
}

impl MemoryTransport {
    fn answer(&self, request: Request) -> Response {
        self.shared.http_requests.fetch_add(1, Ordering::SeqCst);
        let head = Head::from_url(&request.method, &request.url, request.headers);
        let (status, content_type, body) = if request.body.len() > MAX_BODY {
            let err = ActorError::new("message", "incoming_too_long", "the body is too large");
            protocol::gateway_error(400, &err)
        } else {
            protocol::http(&self.shared, &head, &request.body)
        };
        Response::new(status, body).header("content-type", content_type)
    }

    fn open(&self, connect: Connect) -> Socket {
        self.shared
            .websocket_attempts
            .fetch_add(1, Ordering::SeqCst);
        let head = Head::from_url(
            "GET",
            &connect.url,
            vec![(
                "sec-websocket-protocol".to_owned(),
                connect.protocols.join(", "),
            )],
        );
        let mut state = State {
            phase: Phase::Done,
            early: Vec::new(),
            queue: VecDeque::new(),
            waker: None,
        };
        let mut delay = None;
        match protocol::admit(&self.shared, &head) {
            Err(outs) => state.push_all(outs),
            Ok(admitted) if admitted.delay.is_zero() => state.open(admitted),
            Ok(admitted) => {
                // Like a real server: open (`101`), then the `Init` after the delay.
                delay = Some(sleep(admitted.delay));
                state.phase = Phase::Delayed(admitted);
            }
        }
        let state = Arc::new(Mutex::new(state));
        Socket {
            sink: Box::pin(MemorySink {
                state: state.clone(),
            }),
            stream: Box::pin(MemoryStream {
                state,
                delay,
                done: false,
            }),
        }
    }
}

/// A timer on the client's own runtime (tokio natively, so `tokio::time::pause` applies; the
/// browser's timers in wasm32).
fn sleep(delay: std::time::Duration) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        rivet_core::runtime::timeout(delay, futures::future::pending::<()>()).await;
    })
}

enum Phase {
    /// Held by `delay_connects`; the connection opens when the delay ends.
    Delayed(Admitted),
    Open(Session),
    /// Closed, dropped or refused: nothing more is handled.
    Done,
}

/// What the two halves of one in-memory WebSocket share.
struct State {
    phase: Phase,
    /// Messages the client sent before the connection opened (handled once it does).
    early: Vec<ClientFrame>,
    /// What the client receives next, in order.
    queue: VecDeque<ServerFrame>,
    /// The task reading the stream.
    waker: Option<Waker>,
}

impl State {
    fn open(&mut self, admitted: Admitted) {
        match admitted.open() {
            Ok((session, first)) => {
                self.queue.extend(first.into_iter().map(server_frame));
                self.phase = Phase::Open(session);
                for frame in std::mem::take(&mut self.early) {
                    self.receive(frame);
                }
            }
            Err(outs) => {
                self.phase = Phase::Done;
                self.push_all(outs);
            }
        }
    }

    /// Queues what the server sends; a close or drop ends the connection (and unregisters
    /// it).
    fn push_all(&mut self, outs: Vec<Out>) {
        for out in outs {
            match out {
                Out::Frame(frame) => self.queue.push_back(server_frame(frame)),
                Out::Close { code, reason } => {
                    self.end(ServerFrame::Closed { code, reason });
                    return;
                }
                Out::Drop => {
                    self.end(ServerFrame::Failed {
                        code: 1006,
                        cause: "the fake server dropped the connection".to_owned(),
                    });
                    return;
                }
            }
        }
    }

    fn end(&mut self, last: ServerFrame) {
        self.phase = Phase::Done;
        self.queue.push_back(last);
    }

    /// Handles a message from the client.
    fn receive(&mut self, frame: ClientFrame) {
        let session = match &mut self.phase {
            Phase::Open(session) => session,
            Phase::Delayed(_) => {
                self.early.push(frame);
                return;
            }
            Phase::Done => return,
        };
        match frame {
            ClientFrame::Text(text) => {
                let outs = session.receive(text.as_bytes());
                self.push_all(outs);
            }
            ClientFrame::Binary(bytes) => {
                let outs = session.receive(&bytes);
                self.push_all(outs);
            }
            ClientFrame::Ping => self.queue.push_back(ServerFrame::Pong),
            // The server answers a close with the same close.
            ClientFrame::Close { code, reason } => self.end(ServerFrame::Closed { code, reason }),
        }
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

fn server_frame(frame: Frame) -> ServerFrame {
    match frame {
        Frame::Text(text) => ServerFrame::Text(text),
        Frame::Binary(bytes) => ServerFrame::Binary(bytes),
    }
}

struct MemorySink {
    state: Arc<Mutex<State>>,
}

impl Sink<ClientFrame> for MemorySink {
    type Error = Failure;

    fn poll_ready(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Failure>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, frame: ClientFrame) -> Result<(), Failure> {
        lock(&self.state).receive(frame);
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Failure>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Failure>> {
        Poll::Ready(Ok(()))
    }
}

struct MemoryStream {
    state: Arc<Mutex<State>>,
    delay: Option<BoxFuture<'static, ()>>,
    done: bool,
}

impl Drop for MemoryStream {
    /// The client let go of the socket: the connection is gone for the server too.
    fn drop(&mut self) {
        lock(&self.state).phase = Phase::Done;
    }
}

impl Stream for MemoryStream {
    type Item = ServerFrame;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ServerFrame>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Some(delay) = self.delay.as_mut() {
            if delay.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.delay = None;
            let mut state = lock(&self.state);
            if let Phase::Delayed(admitted) = std::mem::replace(&mut state.phase, Phase::Done) {
                state.open(admitted);
            }
        }
        let mut state = lock(&self.state);
        loop {
            if let Some(frame) = state.queue.pop_front() {
                let last = matches!(
                    frame,
                    ServerFrame::Closed { .. } | ServerFrame::Failed { .. }
                );
                drop(state);
                self.done = last;
                return Poll::Ready(Some(frame));
            }
            let command = match &mut state.phase {
                Phase::Open(session) => match session.commands.poll_next_unpin(cx) {
                    Poll::Ready(Some(command)) => session.command(command),
                    // The sender lives as long as the session is registered.
                    Poll::Ready(None) => Out::Drop,
                    Poll::Pending => break,
                },
                Phase::Delayed(_) | Phase::Done => break,
            };
            state.push_all(vec![command]);
        }
        state.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}
