#[rivet_core::actor]
pub trait Counter {
    fn increment(amount: i64) -> i64;
    #[event]
    fn new_count(count: i64);
}

fn run(counter: rivet_core::typed::Connection<Counter>) {
    let _listener = counter.on(Counter::NEW_COUNT, |count: String| println!("{count}"));
}

fn main() {}
