use supervisor::Worker;
use supervisor::worker;

#[worker]
#[derive(Clone)]
struct Poller;

fn main() {}
