#[rivet_core::actor]
pub trait Chat {
    fn send_message(text: &str) -> bool;
}

fn main() {}
