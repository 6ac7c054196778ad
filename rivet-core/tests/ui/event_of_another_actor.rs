#[rivet_core::actor]
pub trait Counter {
    fn increment(amount: i64) -> i64;
    #[event]
    fn new_count(count: i64);
}

#[rivet_core::actor(name = "chatRoom")]
pub trait Chat {
    #[event]
    fn message(text: String);
}

fn run(counter: rivet_core::typed::Connection<Counter>) {
    let _listener = counter.on(Chat::MESSAGE, |text| println!("{text}"));
}

fn main() {}
