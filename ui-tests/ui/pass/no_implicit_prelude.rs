//! Both macros compile in a module without the prelude: every path they
//! generate is absolute.
#![allow(dead_code)]

mod bare {
    #![no_implicit_prelude]

    #[::supervisor::worker(restart = transient, shutdown = 1s, backoff = 10ms..1s)]
    #[derive(::core::clone::Clone)]
    pub struct Poller {
        pub every: ::std::time::Duration,
    }

    impl Poller {
        pub async fn run(self, ctx: ::supervisor::Context) -> ::core::result::Result<(), ::std::io::Error> {
            ctx.cancelled().await;
            ::core::result::Result::Ok(())
        }
    }

    #[::supervisor::worker]
    #[derive(::core::clone::Clone)]
    pub struct Generic<T: ::core::clone::Clone + ::core::marker::Send + 'static>(pub T);

    impl<T: ::core::clone::Clone + ::core::marker::Send + 'static> Generic<T> {
        pub async fn run(self, ctx: ::supervisor::Context) {
            ctx.cancelled().await
        }
    }

    pub fn spec(grace: ::std::time::Duration) -> ::supervisor::SupervisorSpec {
        ::supervisor::supervision_tree! {
            supervisor app(strategy = one_for_all, max_restarts = 2, within = 1s, auto_shutdown = any_significant) {
                worker poller(shutdown = { grace }, significant) = Poller { every: ::std::time::Duration::from_millis(10) };
                worker generic(group = g, heartbeat = 1s) = Generic(7u8);
                supervisor nested(restart = temporary) { worker inner = Generic(()); }
                group g(strategy = rest_for_one);
                override poller(escalation = quarantine);
            }
        }
    }
}

fn main() {
    let spec = bare::spec(std::time::Duration::from_millis(200));
    spec.validate().expect("valid");
    assert_eq!(spec.children().len(), 3);
    assert_eq!(spec.children()[0].options().restart, supervisor::Restart::Transient);
}
