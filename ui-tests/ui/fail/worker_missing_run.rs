use supervisor::worker;

#[worker]
#[derive(Clone)]
struct Poller {
    url: String,
}

fn main() {}
