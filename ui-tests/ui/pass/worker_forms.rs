//! `#[worker]` on unit, tuple, named and generic structs, with every option,
//! and `run` returning `()`, `Result<(), io::Error>` or `anyhow::Result<()>`.
use std::time::Duration;
use supervisor::{
    Backoff, Context, Restart, Shutdown, Worker, WorkerDefaults, supervision_tree, worker,
};

#[worker]
#[derive(Clone)]
struct Unit;
impl Unit {
    async fn run(self, ctx: Context) {
        ctx.cancelled().await
    }
}

#[worker(restart = temporary, shutdown = brutal_kill)]
#[derive(Clone)]
struct Tuple(u32, String);
impl Tuple {
    async fn run(self, _ctx: Context) -> Result<(), std::io::Error> {
        let _ = (self.0, self.1);
        Ok(())
    }
}

#[worker(restart = transient, shutdown = 1.5s, backoff = 10ms..1s, heartbeat = 500ms, start_timeout = 2s)]
#[derive(Clone)]
struct Named {
    url: String,
}
impl Named {
    async fn run(self, ctx: Context) -> anyhow::Result<()> {
        let _ = self.url;
        ctx.ready();
        ctx.heartbeat();
        Ok(())
    }
}

#[worker(backoff = none, shutdown = infinity)]
#[derive(Clone)]
struct Generic<T: Clone + Send + 'static, const N: usize>
where
    T: Default,
{
    items: [T; N],
}
impl<T: Clone + Send + Default + 'static, const N: usize> Generic<T, N> {
    async fn run(self, _ctx: Context) {
        let _ = self.items;
    }
}

fn main() {
    assert_eq!(Unit::DEFAULTS, WorkerDefaults::NONE);
    assert_eq!(Tuple::DEFAULTS.restart, Some(Restart::Temporary));
    assert_eq!(Tuple::DEFAULTS.shutdown, Some(Shutdown::BrutalKill));
    assert_eq!(
        Named::DEFAULTS,
        WorkerDefaults {
            restart: Some(Restart::Transient),
            shutdown: Some(Shutdown::Timeout(Duration::from_millis(1500))),
            backoff: Some(Backoff::exponential(
                Duration::from_millis(10),
                Duration::from_secs(1)
            )),
            heartbeat: Some(Duration::from_millis(500)),
            start_timeout: Some(Duration::from_secs(2)),
        }
    );
    assert_eq!(<Generic<u8, 2>>::DEFAULTS.backoff, Some(Backoff::None));
    assert_eq!(
        <Generic<u8, 2>>::DEFAULTS.shutdown,
        Some(Shutdown::Infinity)
    );

    let spec = supervision_tree! {
        supervisor app {
            worker unit = Unit;
            worker tuple = Tuple(1, "x".into());
            worker named(restart = permanent) = Named { url: "u".into() };
            worker generic = Generic::<u8, 2> { items: [1, 2] };
        }
    };
    spec.validate().expect("valid");
    // The tree's option wins over the type's default.
    assert_eq!(spec.children()[2].options().restart, Restart::Permanent);
    assert_eq!(
        spec.children()[2].options().start_timeout,
        Some(Duration::from_secs(2))
    );
}
