//! Tracing: every run of a child is inside a span that carries the child's
//! path and attempt, so a worker's own log lines say where they come from;
//! whether the run was restarted by its own task or by the supervisor.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use supervisor::{Backoff, ChildSpec, Context, SupervisorSpec};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// A subscriber that remembers each span's fields and, for every event,
/// its message and the fields of the innermost `child` span it is in.
#[derive(Clone, Default)]
struct Capture {
    inner: Arc<Inner>,
}

/// Field name to value, as `Debug` prints it.
type FieldMap = HashMap<String, String>;

/// An event's message, its `child` span's fields, its supervisor's path.
type Line = (String, Option<FieldMap>, Option<String>);

#[derive(Default)]
struct Inner {
    next: AtomicU64,
    /// Span id to its name and fields.
    spans: Mutex<HashMap<u64, (&'static str, FieldMap)>>,
    /// Span id to its parent's, as tracing links them (the span entered
    /// when it was made, or the one it names).
    parents: Mutex<HashMap<u64, u64>>,
    stack: Mutex<Vec<u64>>,
    /// Each event's message, the fields of its `child` span, and the path
    /// of the innermost `supervisor` span around it.
    lines: Mutex<Vec<Line>>,
}

struct Fields<'a>(&'a mut FieldMap);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_string(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.inner.next.fetch_add(1, Ordering::SeqCst) + 1;
        let mut fields = HashMap::new();
        attrs.record(&mut Fields(&mut fields));
        self.inner.spans.lock().unwrap().insert(id, (attrs.metadata().name(), fields));
        let parent = if attrs.is_contextual() {
            self.inner.stack.lock().unwrap().last().copied()
        } else {
            attrs.parent().map(Id::into_u64)
        };
        if let Some(parent) = parent {
            self.inner.parents.lock().unwrap().insert(id, parent);
        }
        Id::from_u64(id)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some((_, fields)) = self.inner.spans.lock().unwrap().get_mut(&span.into_u64()) {
            values.record(&mut Fields(fields));
        }
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = HashMap::new();
        event.record(&mut Fields(&mut fields));
        let message = fields.remove("message").unwrap_or_default();
        let spans = self.inner.spans.lock().unwrap();
        let child = self
            .inner
            .stack
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find_map(|id| spans.get(id).filter(|(name, _)| *name == "child").map(|(_, f)| f.clone()));
        // The innermost supervisor span up the chain of parents.
        let parents = self.inner.parents.lock().unwrap();
        let mut at = self.inner.stack.lock().unwrap().last().copied();
        let mut supervisor = None;
        while let Some(id) = at {
            if let Some(("supervisor", fields)) = spans.get(&id).map(|(n, f)| (*n, f)) {
                supervisor = fields.get("path").cloned();
                break;
            }
            at = parents.get(&id).copied();
        }
        self.inner.lines.lock().unwrap().push((message, child, supervisor));
    }

    fn enter(&self, span: &Id) {
        self.inner.stack.lock().unwrap().push(span.into_u64());
    }

    fn exit(&self, span: &Id) {
        let mut stack = self.inner.stack.lock().unwrap();
        if let Some(at) = stack.iter().rposition(|id| *id == span.into_u64()) {
            stack.remove(at);
        }
    }
}

impl Capture {
    /// The (path, attempt) of the child span around each line `message`.
    fn where_logged(&self, message: &str) -> Vec<(String, String)> {
        self.inner
            .lines
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, _, _)| m == message)
            .map(|(_, span, _)| {
                let span = span.clone().unwrap_or_default();
                (span.get("path").cloned().unwrap_or_default(), span.get("attempt").cloned().unwrap_or_default())
            })
            .collect()
    }
}

impl Capture {
    /// The path of the supervisor span around each line `message`.
    fn supervisor_of(&self, message: &str) -> Vec<Option<String>> {
        self.inner.lines.lock().unwrap().iter().filter(|(m, _, _)| m == message).map(|(_, _, s)| s.clone()).collect()
    }
}

/// Logs `message` on every run; fails its first two runs, then idles.
fn chatty(id: &str, message: &'static str) -> ChildSpec {
    ChildSpec::from_fn(id, move |ctx: Context| async move {
        tracing::info!("{message}");
        if ctx.attempt() <= 2 {
            return Err("not yet");
        }
        ctx.cancelled().await;
        Ok(())
    })
}

#[tokio::test(start_paused = true)]
async fn each_run_logs_inside_a_span_with_its_path_and_attempt() {
    let capture = Capture::default();
    let _default = tracing::subscriber::set_default(capture.clone());
    let tree = SupervisorSpec::new("app")
        .max_restarts(10)
        // Restarted by its own task.
        .child(chatty("inline", "inline run"))
        // Restarted by the supervisor, after a backoff, in a new task.
        .child(chatty("backoff", "backoff run").backoff(Backoff::exponential(ms(10), ms(20))))
        .start()
        .await
        .unwrap();
    settle_for(ms(100)).await;
    let expect = |path: &str| -> Vec<(String, String)> {
        (1..=3).map(|attempt| (path.to_string(), attempt.to_string())).collect()
    };
    assert_eq!(capture.where_logged("inline run"), expect("app/inline"));
    assert_eq!(capture.where_logged("backoff run"), expect("app/backoff"));
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn every_run_logs_inside_its_supervisors_span() {
    let capture = Capture::default();
    let _default = tracing::subscriber::set_default(capture.clone());
    let tree = SupervisorSpec::new("app")
        .max_restarts(10)
        // Restarted by its own task: its runs after the first were once
        // outside the supervisor's span.
        .child(chatty("inline", "inline run"))
        .child(chatty("backoff", "backoff run").backoff(Backoff::exponential(ms(10), ms(20))))
        .supervisor(SupervisorSpec::new("nested").child(chatty("deep", "deep run")))
        .start()
        .await
        .unwrap();
    settle_for(ms(100)).await;
    let app = vec![Some("app".to_string()); 3];
    assert_eq!(capture.supervisor_of("inline run"), app);
    assert_eq!(capture.supervisor_of("backoff run"), app);
    assert_eq!(capture.supervisor_of("deep run"), vec![Some("app/nested".to_string()); 3]);
    tree.shutdown().await.unwrap();
}
