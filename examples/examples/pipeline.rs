//! Workers that talk: a producer, two stages and a sink passing messages
//! through mailboxes, while the stages panic now and then. Every message is
//! either received by the sink or given up as a dead letter, never lost: the
//! example counts them and exits non-zero if one is missing.
//! Run it with `cargo run --example pipeline`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use supervisor::mailbox::{Address, DeadLetter, Mailbox};
use supervisor::{Context, supervision_tree, worker};

/// Messages the producer sends.
const ITEMS: u64 = 2_000;

#[derive(Debug)]
struct Item {
    id: u64,
    /// The stages it went through.
    hops: u32,
}

/// Counts of the whole run.
#[derive(Default)]
struct Tally {
    sent: AtomicU64,
    received: AtomicU64,
    dead: AtomicU64,
    /// Ids the sink saw, to catch a message received twice.
    seen: Mutex<HashSet<u64>>,
}

/// Sends `ITEMS` messages, then waits to be stopped. Declared last: it
/// stops first, and the stages drain what it sent.
#[worker(restart = transient)]
#[derive(Clone)]
struct Producer {
    next: Address<Item>,
    tally: Arc<Tally>,
}

impl Producer {
    async fn run(self, ctx: Context) -> anyhow::Result<()> {
        while self.tally.sent.load(Ordering::SeqCst) < ITEMS {
            let id = self.tally.sent.load(Ordering::SeqCst);
            // Waits for room: the stages set the pace.
            self.next.send(Item { id, hops: 0 }).await?;
            self.tally.sent.fetch_add(1, Ordering::SeqCst);
        }
        ctx.cancelled().await;
        Ok(())
    }
}

/// Takes an item, passes it on, and acknowledges it once passed on. It
/// panics on one delivery in `panic_every`, and always on a poison item
/// (one in 500): an unacknowledged item goes back to the front of the
/// mailbox, and a poison one becomes a dead letter after three tries.
#[worker]
#[derive(Clone)]
struct Stage {
    inbox: Mailbox<Item>,
    next: Address<Item>,
    panic_every: u64,
    deliveries: Arc<AtomicU64>,
}

impl Stage {
    async fn run(self, ctx: Context) -> anyhow::Result<()> {
        let mut inbox = self.inbox.receiver(&ctx)?;
        while let Some(mut item) = inbox.recv_guarded().await {
            let n = self.deliveries.fetch_add(1, Ordering::SeqCst) + 1;
            if n.is_multiple_of(self.panic_every) || item.id % 500 == 499 {
                panic!("{} gave up on item {} (delivery {})", ctx.path(), item.id, item.redeliveries() + 1);
            }
            item.hops += 1;
            let item = item.ack();
            self.next.send(item).await?;
        }
        Ok(())
    }
}

/// Counts what arrives.
#[worker]
#[derive(Clone)]
struct Sink {
    inbox: Mailbox<Item>,
    tally: Arc<Tally>,
}

impl Sink {
    async fn run(self, ctx: Context) -> anyhow::Result<()> {
        let mut inbox = self.inbox.receiver(&ctx)?;
        while let Some(item) = inbox.recv().await {
            anyhow::ensure!(item.hops == 2, "item {} skipped a stage", item.id);
            if !self.tally.seen.lock().unwrap_or_else(|e| e.into_inner()).insert(item.id) {
                anyhow::bail!("item {} arrived twice", item.id);
            }
            self.tally.received.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }
}

/// A stage's mailbox, whose dead letters are counted.
fn stage_mailbox(tally: &Arc<Tally>) -> (Address<Item>, Mailbox<Item>) {
    let tally = tally.clone();
    supervisor::mailbox::builder(64)
        .redelivery_limit(2)
        .on_dead_letter(move |dead: DeadLetter<Item>| {
            println!("  dead letter: item {} ({})", dead.message.id, dead.reason);
            tally.dead.fetch_add(1, Ordering::SeqCst);
        })
        .build()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // One line per panic instead of a backtrace hint.
    std::panic::set_hook(Box::new(|info| {
        let message = info.payload().downcast_ref::<String>().map_or("a panic", String::as_str);
        println!("  panic: {message}");
    }));
    let tally = Arc::new(Tally::default());
    let (parse, parse_inbox) = stage_mailbox(&tally);
    let (enrich, enrich_inbox) = stage_mailbox(&tally);
    let (sink, sink_inbox) = supervisor::mailbox::<Item>(64);

    // Declared in the order of dependence: what others send to comes first.
    let tree = supervision_tree! {
        supervisor app(strategy = one_for_one) {
            worker sink = Sink { inbox: sink_inbox, tally: tally.clone() };
            supervisor stages(strategy = one_for_one, max_restarts = 1000, within = 1s) {
                worker enrich = Stage {
                    inbox: enrich_inbox, next: sink, panic_every: 211, deliveries: Arc::default(),
                };
                worker parse = Stage {
                    inbox: parse_inbox, next: enrich, panic_every: 97, deliveries: Arc::default(),
                };
            }
            worker producer = Producer { next: parse, tally: tally.clone() };
        }
    }
    .start()
    .await?;

    let accounted = || tally.received.load(Ordering::SeqCst) + tally.dead.load(Ordering::SeqCst);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while accounted() < ITEMS && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let restarts: u32 = tree.nested("stages").await?.which_children().await?.iter().map(|c| c.restarts).sum();
    tree.shutdown().await?;

    let (sent, received, dead) =
        (tally.sent.load(Ordering::SeqCst), tally.received.load(Ordering::SeqCst), tally.dead.load(Ordering::SeqCst));
    println!("sent {sent}, received {received}, dead letters {dead}, stage restarts {restarts}");
    if sent != ITEMS || sent != received + dead {
        eprintln!("lost {} messages", sent.saturating_sub(received + dead));
        std::process::exit(1);
    }
    println!("nothing lost");
    Ok(())
}
