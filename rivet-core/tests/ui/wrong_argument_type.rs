#[rivet_core::actor]
pub trait Counter {
    fn increment(amount: i64) -> i64;
    #[event]
    fn new_count(count: i64);
}

async fn run(counter: rivet_core::typed::Handle<Counter>) -> rivet_core::Result<i64> {
    counter.increment("one").await
}

fn main() {}
