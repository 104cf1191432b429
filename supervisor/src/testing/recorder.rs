//! The event recorder: what a tree did, kept for assertions over sequences,
//! and the diff of expected against seen when they fail.

use std::fmt;

use super::expect::{Expect, describe};
use crate::runtime::{Event, RecvError, Subscription, SupervisorHandle};

/// Records the events of a tree from its creation on, for assertions that
/// read like the events:
///
/// ```
/// use std::time::Duration;
/// use supervisor::testing::{Exit, Recorder, Script, exited, restart_scheduled, started};
/// use supervisor::{ChildSpec, SupervisorSpec};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() -> anyhow::Result<()> {
/// let db = Script::new().fails_after(Duration::from_millis(10)).stays_up();
/// let tree = SupervisorSpec::new("app").child(ChildSpec::worker("db", db)).start().await?;
/// let mut events = Recorder::new(&tree);
/// tokio::time::sleep(Duration::from_millis(20)).await;
/// events.assert_in_order(&[
///     exited("app/db", Exit::Failure),
///     restart_scheduled("app/db", Duration::ZERO),
///     started("app/db").attempt(2),
/// ]);
/// tree.shutdown().await?;
/// # Ok(()) }
/// ```
///
/// It reads the tree's bounded event queue when asked (every `check_*`,
/// `assert_*` and [`events`](Self::events) call), so what it shows is
/// everything sent until then, in order. A test that lets more than the
/// queue's thousand events go by between two calls loses the oldest; the
/// recorder says so in its reports. A tree's start sends its events before
/// `start()` returns: a recorder made then sees what follows.
pub struct Recorder {
    events: Subscription,
    seen: Vec<Event>,
    lost: u64,
    under: Option<String>,
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder").field("seen", &self.seen.len()).field("lost", &self.lost).finish()
    }
}

impl Recorder {
    /// Starts recording the events of the whole tree of `tree`.
    pub fn new(tree: &SupervisorHandle) -> Self {
        Recorder { events: tree.subscribe(), seen: Vec::new(), lost: 0, under: None }
    }

    /// Keeps only the events of `path` and of what is below it
    /// (`"app/pipeline"` keeps `app/pipeline` and `app/pipeline/ingest`), so
    /// that [`check_exactly`](Self::check_exactly) can pin one subtree.
    pub fn only_under(mut self, path: impl AsRef<str>) -> Self {
        self.under = Some(path.as_ref().to_string());
        self
    }

    fn keeps(&self, event: &Event) -> bool {
        match &self.under {
            None => true,
            Some(p) => event.path.strip_prefix(p.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')),
        }
    }

    fn read(&mut self) {
        while let Some(next) = self.events.try_recv() {
            match next {
                Ok(event) if self.keeps(&event) => self.seen.push(event),
                Ok(_) => {}
                Err(RecvError::Lagged(n)) => self.lost = self.lost.saturating_add(n),
                Err(RecvError::Closed) => break,
            }
        }
    }

    /// Every event recorded so far, oldest first.
    pub fn events(&mut self) -> &[Event] {
        self.read();
        &self.seen
    }

    /// Forgets what was recorded so far: the next checks look at what
    /// follows.
    pub fn clear(&mut self) {
        self.read();
        self.seen.clear();
        self.lost = 0;
    }

    /// Checks that the expected events were seen in this order, other events
    /// allowed between them; on a mismatch, a report of what matched, what
    /// is missing, and every event seen.
    pub fn check_in_order(&mut self, expected: &[Expect]) -> Result<(), Mismatch> {
        self.read();
        in_order(expected, &self.seen, self.lost)
    }

    /// Checks that the events seen are exactly the expected ones, in order,
    /// nothing else; on a mismatch, a diff: `-` expected but not seen, `+`
    /// seen but not expected.
    pub fn check_exactly(&mut self, expected: &[Expect]) -> Result<(), Mismatch> {
        self.read();
        exactly(expected, &self.seen, self.lost)
    }

    /// [`check_in_order`](Self::check_in_order), panicking with its report.
    #[track_caller]
    pub fn assert_in_order(&mut self, expected: &[Expect]) {
        if let Err(mismatch) = self.check_in_order(expected) {
            panic!("{mismatch}");
        }
    }

    /// [`check_exactly`](Self::check_exactly), panicking with its diff.
    #[track_caller]
    pub fn assert_exactly(&mut self, expected: &[Expect]) {
        if let Err(mismatch) = self.check_exactly(expected) {
            panic!("{mismatch}");
        }
    }
}

/// Expected events that were not seen as expected: its `Display` is the
/// report, expected against seen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{report}")]
pub struct Mismatch {
    report: String,
}

fn lost_note(report: &mut String, lost: u64) {
    if lost > 0 {
        report.push_str(&format!(
            "\nnote: the recorder fell behind and lost {lost} events; check more often between bursts"
        ));
    }
}

/// The first expected event that is not seen after the ones before it.
fn in_order(expected: &[Expect], seen: &[Event], lost: u64) -> Result<(), Mismatch> {
    let mut matched = Vec::with_capacity(expected.len());
    let mut from = 0;
    for want in expected {
        match seen[from..].iter().position(|e| want.matches(e)) {
            Some(at) => {
                matched.push(from + at);
                from += at + 1;
            }
            None => break,
        }
    }
    if matched.len() == expected.len() {
        return Ok(());
    }
    let missing = &expected[matched.len()];
    let mut report = match matched.last() {
        Some(&last) => format!(
            "the events did not match in order (gaps allowed): `{missing}` was not seen after event {}",
            last + 1
        ),
        None => format!("the events did not match in order (gaps allowed): `{missing}` was not seen"),
    };
    let texts: Vec<String> = expected.iter().map(ToString::to_string).collect();
    let width = texts.iter().map(String::len).max().unwrap_or(0);
    report.push_str("\nexpected:");
    for (i, text) in texts.iter().enumerate() {
        let (mark, note) = match matched.get(i) {
            Some(&at) => ('=', format!("event {}", at + 1)),
            None if i == matched.len() => ('!', "missing".to_string()),
            None => ('?', "not looked for".to_string()),
        };
        report.push_str(&format!("\n  {mark} {text:width$}  {note}"));
    }
    write_seen(&mut report, seen, |i| matched.contains(&i));
    lost_note(&mut report, lost);
    Err(Mismatch { report })
}

fn write_seen(report: &mut String, seen: &[Event], matched: impl Fn(usize) -> bool) {
    if seen.is_empty() {
        report.push_str("\nseen: no events");
        return;
    }
    report.push_str(&format!("\nseen ({} events):", seen.len()));
    let width = seen.len().to_string().len();
    for (i, event) in seen.iter().enumerate() {
        let mark = if matched(i) { '=' } else { ' ' };
        report.push_str(&format!("\n  {:>width$} {mark} {}", i + 1, describe(event)));
    }
}

/// One line of the diff of [`exactly`].
enum Line<'a> {
    Same(&'a Event),
    Missing(&'a Expect),
    Extra(&'a Event),
}

/// The longest common subsequence of expected and seen, as a diff.
fn diff<'a>(expected: &'a [Expect], seen: &'a [Event]) -> Vec<Line<'a>> {
    let (n, m) = (expected.len(), seen.len());
    // lcs[i][j]: the longest match of expected[i..] with seen[j..].
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] =
                if expected[i].matches(&seen[j]) { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut lines = Vec::with_capacity(n.max(m));
    while i < n || j < m {
        if i < n && j < m && expected[i].matches(&seen[j]) && lcs[i][j] == lcs[i + 1][j + 1] + 1 {
            lines.push(Line::Same(&seen[j]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            lines.push(Line::Missing(&expected[i]));
            i += 1;
        } else {
            lines.push(Line::Extra(&seen[j]));
            j += 1;
        }
    }
    lines
}

fn exactly(expected: &[Expect], seen: &[Event], lost: u64) -> Result<(), Mismatch> {
    let lines = diff(expected, seen);
    if lines.iter().all(|l| matches!(l, Line::Same(_))) && lost == 0 {
        return Ok(());
    }
    let mut report =
        String::from("the events did not match exactly (- expected but not seen, + seen but not expected):");
    for line in &lines {
        match line {
            Line::Same(event) => report.push_str(&format!("\n    {}", describe(event))),
            Line::Missing(want) => report.push_str(&format!("\n  - {want}")),
            Line::Extra(event) => report.push_str(&format!("\n  + {}", describe(event))),
        }
    }
    if lines.is_empty() {
        report.push_str("\n    (no events expected, none seen)");
    }
    lost_note(&mut report, lost);
    Err(Mismatch { report })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::error::ExitReason;
    use crate::runtime::EventKind;
    use crate::testing::expect::{Exit, escalated, exited, restart_scheduled, started};

    fn event(path: &str, attempt: u32, kind: EventKind) -> Event {
        Event { at: tokio::time::Instant::now(), path: Arc::from(path), attempt, kind }
    }

    fn failed(msg: &str) -> EventKind {
        EventKind::Exited { reason: ExitReason::Failed(Arc::new(std::io::Error::other(msg.to_string()))) }
    }

    fn crash_then_restart() -> Vec<Event> {
        vec![
            event("app/db", 1, failed("disk full")),
            event("app/db", 1, EventKind::RestartScheduled { delay: Duration::from_millis(10) }),
            event("app/cache", 1, EventKind::Started),
            event("app/db", 2, EventKind::Started),
        ]
    }

    #[test]
    fn in_order_allows_gaps_and_needs_the_order() {
        let seen = crash_then_restart();
        let ms = Duration::from_millis;
        assert_eq!(in_order(&[exited("app/db", Exit::Error), started("app/db")], &seen, 0), Ok(()));
        assert_eq!(in_order(&[], &seen, 0), Ok(()));
        assert!(in_order(&[started("app/db"), restart_scheduled("app/db", ms(10))], &seen, 0).is_err());
    }

    #[test]
    fn in_order_reports_what_matched_what_is_missing_and_what_was_seen() {
        let seen = crash_then_restart();
        let expected = [
            exited("app/db", Exit::Failure),
            started("app/db").attempt(2),
            escalated("app"),
            started("app/db").attempt(3),
        ];
        let report = in_order(&expected, &seen, 0).unwrap_err().to_string();
        assert_eq!(
            report,
            "the events did not match in order (gaps allowed): `escalated app` was not seen after event 4
expected:
  = exited app/db: failure     event 1
  = started app/db, attempt 2  event 4
  ! escalated app              missing
  ? started app/db, attempt 3  not looked for
seen (4 events):
  1 = exited app/db, attempt 1: error (failed: disk full)
  2   restart_scheduled app/db, attempt 1: 10ms
  3   started app/cache, attempt 1
  4 = started app/db, attempt 2"
        );
        let report = in_order(&[escalated("app")], &[], 0).unwrap_err().to_string();
        assert_eq!(
            report,
            "the events did not match in order (gaps allowed): `escalated app` was not seen
expected:
  ! escalated app  missing
seen: no events"
        );
    }

    #[test]
    fn exactly_diffs_missing_and_unexpected_events() {
        let seen = crash_then_restart();
        let ms = Duration::from_millis;
        let all = [
            exited("app/db", Exit::Error),
            restart_scheduled("app/db", ms(10)),
            started("app/cache"),
            started("app/db"),
        ];
        assert_eq!(exactly(&all, &seen, 0), Ok(()));
        let expected = [exited("app/db", Exit::Panic), restart_scheduled("app/db", ms(10)), started("app/db")];
        let report = exactly(&expected, &seen, 0).unwrap_err().to_string();
        assert_eq!(
            report,
            "the events did not match exactly (- expected but not seen, + seen but not expected):
  - exited app/db: panic
  + exited app/db, attempt 1: error (failed: disk full)
    restart_scheduled app/db, attempt 1: 10ms
  + started app/cache, attempt 1
    started app/db, attempt 2"
        );
    }

    #[test]
    fn lost_events_fail_an_exact_match_and_show_in_reports() {
        let seen = crash_then_restart();
        let all = [
            exited("app/db", Exit::Error),
            restart_scheduled("app/db", Duration::from_millis(10)),
            started("app/cache"),
            started("app/db"),
        ];
        let report = exactly(&all, &seen, 3).unwrap_err().to_string();
        assert!(
            report.ends_with("\nnote: the recorder fell behind and lost 3 events; check more often between bursts"),
            "{report}"
        );
        assert_eq!(exactly(&[], &[], 0), Ok(()), "nothing expected and nothing seen is a match");
    }
}
