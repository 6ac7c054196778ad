#[rivet_core::actor]
pub trait Machine {
    fn status() -> String;
}

fn main() {}
