//! A supervisor's children, in declaration order, found by key.
//!
//! Children are kept in the order they were declared or added, which is
//! the order of their keys (a key is never reused). A removed child leaves
//! a hole that keeps its key, so that removing one costs nothing for the
//! others: a dynamic supervisor whose temporary children come and go by the
//! thousand does not move its other children at every end. The holes go
//! once they outnumber the children, in one pass: a removal costs O(1)
//! amortized, and the holes never take more room than the children.
//!
//! Until the first such pass, a key is its position; after it, a key is
//! found by binary search. Positions are what `index` returns; a removal
//! can move them, so a position is not kept across one.

use std::ops::{Index, IndexMut};

use super::child::Slot;

/// Holes kept at the least before a pass removes them: below this, a pass
/// would cost more than the holes.
const HOLES_KEPT: usize = 32;

/// What has a key: a child's slot (and, in the tests, a plain number).
pub(crate) trait Keyed {
    fn key(&self) -> u64;
}

impl Keyed for Slot {
    fn key(&self) -> u64 {
        self.key
    }
}

enum Entry<T> {
    Live(T),
    /// A removed child's key, for the search by key.
    Gone(u64),
}

impl<T: Keyed> Entry<T> {
    fn key(&self) -> u64 {
        match self {
            Entry::Live(slot) => slot.key(),
            Entry::Gone(key) => *key,
        }
    }

    fn live(&self) -> Option<&T> {
        match self {
            Entry::Live(slot) => Some(slot),
            Entry::Gone(_) => None,
        }
    }

    fn live_mut(&mut self) -> Option<&mut T> {
        match self {
            Entry::Live(slot) => Some(slot),
            Entry::Gone(_) => None,
        }
    }
}

/// The children, in key order.
pub(crate) struct Slots<T = Slot> {
    entries: Vec<Entry<T>>,
    /// The entries that are children (not holes).
    live: usize,
}

impl<T: Keyed> Slots<T> {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Slots { entries: Vec::with_capacity(n), live: 0 }
    }

    /// How many children there are.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Adds a child, whose key is above every key so far; returns its
    /// position.
    pub(crate) fn push(&mut self, slot: T) -> usize {
        debug_assert!(self.entries.last().is_none_or(|e| e.key() < slot.key()), "keys grow");
        self.entries.push(Entry::Live(slot));
        self.live += 1;
        self.entries.len() - 1
    }

    /// The position of the child `key`, if it is there.
    pub(crate) fn position(&self, key: u64) -> Option<usize> {
        // Until a pass removes holes, a key is its position.
        let i = match usize::try_from(key) {
            Ok(i) if self.entries.get(i).is_some_and(|e| e.key() == key) => i,
            _ => self.entries.binary_search_by_key(&key, Entry::key).ok()?,
        };
        self.entries[i].live().map(|_| i)
    }

    /// The position of the first child that `f` accepts.
    pub(crate) fn position_where(&self, mut f: impl FnMut(&T) -> bool) -> Option<usize> {
        self.entries.iter().position(|e| e.live().is_some_and(&mut f))
    }

    /// Removes the child at `i` (none if `i` is not a child's position).
    /// Moves the others only when the holes outnumber the children.
    pub(crate) fn remove(&mut self, i: usize) -> Option<T> {
        let entry = self.entries.get_mut(i)?;
        let key = entry.key();
        let Entry::Live(slot) = std::mem::replace(entry, Entry::Gone(key)) else { return None };
        self.live -= 1;
        // Holes at the end go at once: the last child added is often the
        // first to go.
        while matches!(self.entries.last(), Some(Entry::Gone(_))) {
            self.entries.pop();
        }
        let holes = self.entries.len() - self.live;
        if holes > HOLES_KEPT && holes > self.live {
            self.entries.retain(|e| matches!(e, Entry::Live(_)));
        }
        Some(slot)
    }

    /// The children, in key order.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.entries.iter().filter_map(Entry::live)
    }

    /// The children, in key order, to change.
    pub(crate) fn iter_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut T> {
        self.entries.iter_mut().filter_map(Entry::live_mut)
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.live = 0;
    }
}

impl<T: Keyed> Index<usize> for Slots<T> {
    type Output = T;

    /// The child at `i`, a position that [`Slots::position`] or
    /// [`Slots::push`] gave since the last removal; anything else is a bug
    /// of the supervisor, as an index past a `Vec`'s end is.
    fn index(&self, i: usize) -> &T {
        match &self.entries[i] {
            Entry::Live(slot) => slot,
            Entry::Gone(key) => panic!("position {i} is the hole of removed child {key}"),
        }
    }
}

impl<T: Keyed> IndexMut<usize> for Slots<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        match &mut self.entries[i] {
            Entry::Live(slot) => slot,
            Entry::Gone(key) => panic!("position {i} is the hole of removed child {key}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Keyed for u64 {
        fn key(&self) -> u64 {
            *self
        }
    }

    fn slots(n: u64) -> Slots<u64> {
        let mut s = Slots::with_capacity(0);
        for k in 0..n {
            assert_eq!(s.push(k), k as usize);
        }
        s
    }

    fn keys(s: &Slots<u64>) -> Vec<u64> {
        s.iter().copied().collect()
    }

    #[test]
    fn a_removed_child_is_gone_and_the_others_keep_their_order() {
        let mut s = slots(5);
        let i = s.position(2).unwrap();
        assert_eq!(s.remove(i), Some(2));
        assert_eq!(keys(&s), [0, 1, 3, 4]);
        assert_eq!(s.len(), 4);
        assert_eq!(s.position(2), None, "a hole is no child");
        assert_eq!(s.remove(i), None, "nor can it be removed twice");
        for k in [0, 1, 3, 4] {
            assert_eq!(s.position(k).map(|i| s[i]), Some(k));
            assert_eq!(s.position_where(|&x| x == k), s.position(k), "positions count the holes");
        }
        assert_eq!(s.iter().rev().copied().collect::<Vec<_>>(), [4, 3, 1, 0]);
    }

    #[test]
    fn holes_go_once_they_outnumber_the_children() {
        let n = 1_000;
        let mut s = slots(n);
        // The oldest go first, as connections do.
        for k in 0..n - 10 {
            let i = s.position(k).unwrap();
            assert_eq!(s.remove(i), Some(k));
            assert!(s.entries.len() - s.live <= HOLES_KEPT.max(s.live), "holes: {}", s.entries.len() - s.live);
        }
        assert_eq!(keys(&s), (n - 10..n).collect::<Vec<_>>());
        for k in n - 10..n {
            assert_eq!(s.position(k).map(|i| s[i]), Some(k), "found by search after the pass");
        }
        let next = s.push(n);
        assert_eq!(s[next], n);
        assert_eq!(s.position(n), Some(next));
    }

    #[test]
    fn removing_the_last_leaves_no_hole() {
        let mut s = slots(3);
        s.remove(2);
        s.remove(1);
        assert_eq!(s.entries.len(), 1);
        assert_eq!(s.push(7), 1);
        assert_eq!(keys(&s), [0, 7]);
    }

    #[test]
    fn any_order_of_removals_keeps_every_key_findable() {
        // A fixed pseudo-random order, so that holes fall everywhere.
        let n = 500u64;
        let mut s = slots(n);
        let mut left: Vec<u64> = (0..n).collect();
        let mut x = 12_345u64;
        while left.len() > 3 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let k = left.remove((x >> 33) as usize % left.len());
            let i = s.position(k).unwrap();
            assert_eq!(s.remove(i), Some(k));
            assert_eq!(s.len(), left.len());
            for &k in &left {
                assert_eq!(s.position(k).map(|i| s[i]), Some(k));
            }
        }
        assert_eq!(keys(&s), left);
    }

    #[test]
    fn a_hole_does_not_make_a_slot_bigger() {
        assert_eq!(std::mem::size_of::<Entry<Slot>>(), std::mem::size_of::<Slot>());
    }
}
