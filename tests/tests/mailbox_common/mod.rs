//! Shared parts of the mailbox tests: a consumer that follows a script per
//! message, a log of what it took, and a mailbox whose dead letters are
//! collected.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use supervisor::mailbox::{Address, DeadLetter, DeadLetterReason, Mailbox};
use supervisor::{ChildSpec, Context, Worker, WorkerResult};

/// What the consumer does with one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Acknowledge it and log it.
    Take,
    /// Wait, then take it.
    Slow(Duration),
    /// End the run with an error before the ack.
    Fail,
    /// Panic before the ack.
    Panic,
}

/// Decides the step from the message, the run's attempt and the
/// delivery's redelivery count.
pub(crate) type Script = Arc<dyn Fn(u32, u32, u32) -> Step + Send + Sync>;

/// What the consumer took, with the attempt that took it, in order.
#[derive(Clone, Default)]
pub(crate) struct Taken(Arc<Mutex<Vec<(u32, u32)>>>);

impl Taken {
    pub(crate) fn all(&self) -> Vec<(u32, u32)> {
        self.0.lock().unwrap().clone()
    }

    pub(crate) fn messages(&self) -> Vec<u32> {
        self.all().into_iter().map(|(_, m)| m).collect()
    }
}

/// A worker that takes its mailbox's messages one guarded delivery at a
/// time and follows its script for each.
#[derive(Clone)]
pub(crate) struct Consumer {
    pub(crate) inbox: Mailbox<u32>,
    pub(crate) taken: Taken,
    pub(crate) script: Script,
}

impl Worker for Consumer {
    async fn run(self, ctx: Context) -> impl WorkerResult {
        let mut rx = self.inbox.receiver(&ctx).map_err(|e| e.to_string())?;
        while let Some(delivery) = rx.recv_guarded().await {
            let message = *delivery;
            match (self.script)(message, ctx.attempt(), delivery.redeliveries()) {
                Step::Take => {}
                Step::Slow(d) => tokio::time::sleep(d).await,
                Step::Fail => return Err(format!("failed on {message}")),
                Step::Panic => panic!("panicked on {message}"),
            }
            self.taken.0.lock().unwrap().push((ctx.attempt(), delivery.ack()));
        }
        Ok::<(), String>(())
    }
}

/// A consumer child `id` on `inbox`; returns its log.
pub(crate) fn consumer(
    id: &str,
    inbox: Mailbox<u32>,
    script: impl Fn(u32, u32, u32) -> Step + Send + Sync + 'static,
) -> (ChildSpec, Taken) {
    let taken = Taken::default();
    let worker = Consumer { inbox, taken: taken.clone(), script: Arc::new(script) };
    (ChildSpec::worker(id, worker), taken)
}

/// The dead letters of one mailbox.
#[derive(Clone)]
pub(crate) struct Dead<M>(Arc<Mutex<Vec<(M, DeadLetterReason)>>>);

impl<M: Clone> Dead<M> {
    pub(crate) fn all(&self) -> Vec<(M, DeadLetterReason)> {
        self.0.lock().unwrap().clone()
    }

    pub(crate) fn messages(&self) -> Vec<M> {
        self.all().into_iter().map(|(m, _)| m).collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// A mailbox whose dead letters are collected.
pub(crate) fn collecting<M: Send + 'static>(
    capacity: usize,
    redelivery_limit: u32,
) -> (Address<M>, Mailbox<M>, Dead<M>) {
    let dead = Dead(Arc::new(Mutex::new(Vec::new())));
    let sink = dead.0.clone();
    let (address, mailbox) = supervisor::mailbox::builder(capacity)
        .redelivery_limit(redelivery_limit)
        .on_dead_letter(move |d: DeadLetter<M>| sink.lock().unwrap().push((d.message, d.reason)))
        .build();
    (address, mailbox, dead)
}
