//! Bare tokio written by hand, as a user without a supervision library
//! would: the floor every library is measured against, and two variants.
//!
//! Children are spawned and stopped from the caller, as a user's `main`
//! does (on this runtime that is cheaper than from a worker thread); the
//! loops that respawn run in a task of their own. The ordered stop runs
//! on a worker thread, as a supervisor's task does: from outside the
//! runtime, each of its awaits would cross threads twice.

use std::sync::{Arc, Mutex};

use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use super::{Running, from_tasks};
use crate::libs::Lib;
use crate::probe::{Alive, Probe};

/// The tokens that stop the children of a `JoinSet`.
enum Tokens {
    /// One token shared by every child: the floor (cancel once).
    Shared(CancellationToken),
    /// One token per child, cancelled one by one, last first.
    PerChild(Vec<CancellationToken>),
    /// No token: the children are aborted (the floor of dynamic children).
    Aborted,
}

/// Children in a `JoinSet`, stopped cooperatively by their tokens.
struct Children {
    set: JoinSet<Result<(), ()>>,
    tokens: Tokens,
}

impl Children {
    fn new(lib: Lib) -> Children {
        Children::with(match lib {
            Lib::Token => Tokens::PerChild(Vec::new()),
            _ => Tokens::Shared(CancellationToken::new()),
        })
    }

    fn with(tokens: Tokens) -> Children {
        Children { set: JoinSet::new(), tokens }
    }

    /// The token for the next child.
    fn token(&mut self) -> CancellationToken {
        match &mut self.tokens {
            Tokens::Shared(t) => t.clone(),
            Tokens::Aborted => CancellationToken::new(),
            Tokens::PerChild(ts) => {
                let t = CancellationToken::new();
                ts.push(t.clone());
                t
            }
        }
    }

    fn spawn_idle(&mut self, p: &Arc<Probe>, fails: bool) {
        let p = p.clone();
        if let Tokens::Aborted = self.tokens {
            self.set.spawn(async move {
                let _alive: Alive = p.enter();
                std::future::pending::<Result<(), ()>>().await
            });
            return;
        }
        let t = self.token();
        self.set.spawn(async move {
            let _alive: Alive = p.enter();
            if fails {
                tokio::select! {
                    _ = t.cancelled() => Ok(()),
                    _ = p.trigger.notified() => Err(()),
                }
            } else {
                t.cancelled().await;
                Ok(())
            }
        });
    }

    /// Cancels every child and waits until the set is empty; fresh tokens
    /// for the next generation.
    async fn stop(&mut self) {
        match &mut self.tokens {
            Tokens::Shared(t) => {
                t.cancel();
                *t = CancellationToken::new();
            }
            Tokens::PerChild(ts) => {
                for t in ts.drain(..).rev() {
                    t.cancel();
                }
            }
            Tokens::Aborted => self.set.abort_all(),
        }
        while self.set.join_next().await.is_some() {}
    }
}

/// Children each with its own token and handle, stopped in order.
type Ordered = Vec<(CancellationToken, JoinHandle<()>)>;

fn spawn_ordered(p: &Arc<Probe>, n: usize, notify_failure: Option<&tokio::sync::mpsc::UnboundedSender<()>>) -> Ordered {
    (0..n)
        .map(|i| {
            let p = p.clone();
            let t = CancellationToken::new();
            let own = t.clone();
            let failed = notify_failure.filter(|_| i == 0).cloned();
            let handle = tokio::spawn(async move {
                let _alive: Alive = p.enter();
                match failed {
                    Some(failed) => tokio::select! {
                        _ = own.cancelled() => {}
                        _ = p.trigger.notified() => {
                            let _ = failed.send(());
                        }
                    },
                    None => own.cancelled().await,
                }
            });
            (t, handle)
        })
        .collect()
}

/// Stops children one by one, last first: cancel, then await its end
/// before the next is cancelled.
async fn stop_in_reverse(children: Ordered) {
    for (token, handle) in children.into_iter().rev() {
        token.cancel();
        let _ = handle.await;
    }
}

async fn on_worker<T: Send + 'static>(f: impl std::future::Future<Output = T> + Send + 'static) -> Result<T, String> {
    tokio::spawn(f).await.map_err(|e| e.to_string())
}

pub(crate) fn idle(lib: Lib, p: &Arc<Probe>, n: usize) -> Result<Running, String> {
    if lib == Lib::Ordered {
        let children = spawn_ordered(p, n, None);
        return Ok(Running::new(move || on_worker(stop_in_reverse(children))));
    }
    let mut children = Children::new(lib);
    for _ in 0..n {
        children.spawn_idle(p, false);
    }
    Ok(Running::new(move || async move {
        children.stop().await;
        Ok(())
    }))
}

/// The smallest "supervisor" one can write: respawn the child on every end.
pub(crate) fn crashing(lib: Lib, p: &Arc<Probe>) -> Result<Running, String> {
    let p = p.clone();
    let stop = CancellationToken::new();
    let s = stop.clone();
    let with_token = lib == Lib::Token;
    let looping = tokio::spawn(async move {
        let mut set = JoinSet::new();
        while !s.is_cancelled() {
            let p = p.clone();
            if with_token {
                let t = CancellationToken::new();
                set.spawn(async move {
                    p.record_start();
                    let _t = t;
                    Err::<(), &str>("boom")
                });
            } else {
                set.spawn(async move {
                    p.record_start();
                    Err::<(), &str>("boom")
                });
            }
            let _ = set.join_next().await;
        }
    });
    Ok(Running::new(move || async move {
        stop.cancel();
        looping.await.map_err(|e| e.to_string())
    }))
}

/// A one_for_all loop: on a failure, stop all (cooperatively), wait for
/// all, start all again.
pub(crate) fn one_for_all(lib: Lib, p: &Arc<Probe>, n: usize) -> Result<Running, String> {
    let p = p.clone();
    let stop = CancellationToken::new();
    let s = stop.clone();
    let looping = if lib == Lib::Ordered {
        tokio::spawn(async move {
            let (failed_tx, mut failed) = tokio::sync::mpsc::unbounded_channel::<()>();
            let mut children = spawn_ordered(&p, n, Some(&failed_tx));
            loop {
                tokio::select! {
                    _ = s.cancelled() => break,
                    Some(()) = failed.recv() => {
                        stop_in_reverse(std::mem::take(&mut children)).await;
                        children = spawn_ordered(&p, n, Some(&failed_tx));
                    }
                }
            }
            stop_in_reverse(children).await;
        })
    } else {
        tokio::spawn(async move {
            let mut children = Children::new(lib);
            let spawn_all = |children: &mut Children| {
                for i in 0..n {
                    children.spawn_idle(&p, i == 0);
                }
            };
            spawn_all(&mut children);
            loop {
                tokio::select! {
                    _ = s.cancelled() => break,
                    end = children.set.join_next() => match end {
                        Some(Ok(Err(()))) => {
                            children.stop().await;
                            spawn_all(&mut children);
                        }
                        Some(_) => {}
                        None => break,
                    }
                }
            }
            children.stop().await;
        })
    };
    Ok(Running::new(move || async move {
        stop.cancel();
        looping.await.map_err(|e| e.to_string())
    }))
}

/// Tasks spawn into one `JoinSet` behind a mutex. The floor aborts its
/// children; the token variant cancels each child's token.
pub(crate) async fn dynamic(lib: Lib, p: &Arc<Probe>, n: usize, tasks: usize) -> Result<Running, String> {
    let fresh = move || if lib == Lib::Token { Children::new(lib) } else { Children::with(Tokens::Aborted) };
    let children = Arc::new(Mutex::new(fresh()));
    let shared = children.clone();
    let p = p.clone();
    from_tasks(n, tasks, move |_| {
        let shared = shared.clone();
        let p = p.clone();
        async move {
            let mut children = shared.lock().map_err(|_| "a spawning task panicked".to_string())?;
            children.spawn_idle(&p, false);
            Ok(())
        }
    })
    .await?;
    Ok(Running::new(move || async move {
        // Out of the mutex first: its guard must not be held across an await.
        let taken = children.lock().ok().map(|mut c| std::mem::replace(&mut *c, fresh()));
        if let Some(mut children) = taken {
            children.stop().await;
        }
        Ok(())
    }))
}
