//! `crate = PATH` points both macros at the `supervisor` crate when the
//! calling crate reaches it by another path (a renamed dependency, a
//! re-export).
#![allow(dead_code)]

mod facade {
    pub use supervisor as sv;
}

#[supervisor::worker(crate = facade::sv, restart = transient)]
#[derive(Clone)]
struct Poller;

impl Poller {
    async fn run(self, ctx: facade::sv::Context) {
        ctx.cancelled().await
    }
}

#[supervisor::worker(crate = "facade::sv")]
#[derive(Clone)]
struct Quoted;

impl Quoted {
    async fn run(self, _ctx: facade::sv::Context) {}
}

fn main() {
    let spec = supervisor::supervision_tree! {
        crate = facade::sv;
        supervisor app(within = 1s) {
            worker poller(shutdown = 2s) = Poller;
            worker quoted = Quoted;
        }
    };
    spec.validate().expect("valid");
    assert_eq!(spec.children()[0].options().restart, supervisor::Restart::Transient);
}
