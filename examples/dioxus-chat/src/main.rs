//! A chat room on the `chatRoom` actor with rivet-dioxus, for web and desktop from one crate.
//! The components are this crate's library (`src/lib.rs`, tested in `tests/chat.rs`); this
//! starts them with the renderer the build selected.
//!
//! Web: `bash scripts/build-web.sh dioxus-chat`, serve `target/web/dioxus-chat`, open
//! `/?endpoint=http://127.0.0.1:6420&room=general&user=ada`. Desktop: `RIVET_ENDPOINT=…
//! cargo run -p dioxus-chat --features desktop` (`RIVET_CHAT_ROOM`, `RIVET_CHAT_USER`,
//! `RIVET_CHAT_TOKEN`).

fn main() {
    dioxus_chat::platform::launch(dioxus_chat::App);
}
