#[rivet_core::actor]
pub trait EventWithResult {
    #[event]
    fn new_count(count: i64) -> i64;
}

#[rivet_core::actor]
pub trait QueueWithTwoMessages {
    #[queue]
    fn jobs(a: u32, b: u32);
}

#[rivet_core::actor]
pub trait WithSelf {
    fn increment(&self, amount: i64) -> i64;
}

#[rivet_core::actor]
pub trait UnknownAttribute {
    #[rpc]
    fn increment(amount: i64) -> i64;
}

#[rivet_core::actor]
pub trait Twice {
    fn increment(amount: i64) -> i64;
    #[event]
    fn increment(amount: i64);
}

fn main() {}
