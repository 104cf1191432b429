//! A keyed registry of addresses, as Elixir's `Registry` with unique keys:
//! for dynamic children (a worker per connection, per session, per tenant)
//! that others find by key.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use super::error::AlreadyRegistered;
use super::{Address, Mailbox, OnClose};

/// Addresses by key. An entry goes by itself when its mailbox closes (its
/// child ended for good: a temporary child that ended, a deleted child,
/// the tree shut down), so a lookup never finds a child that is gone for
/// good. Cheap to clone: every clone is the same registry.
///
/// The registry holds addresses only, never a [`Mailbox`]: registering does
/// not keep a child's mailbox open. Make the registered children
/// `temporary`: a supervisor keeps the spec of any other kind, and so its
/// mailbox and its entry, until `delete_child`.
///
/// ```
/// use supervisor::mailbox::Registry;
///
/// let sessions: Registry<u64, String> = Registry::new();
/// let (_address, mailbox) = supervisor::mailbox::<String>(16);
/// sessions.register(7, &mailbox).unwrap();
/// assert!(sessions.lookup(&7).is_some());
/// assert!(sessions.register(7, &mailbox).is_err(), "keys are unique");
/// // The child ends for good: its worker value, and the mailbox, are dropped.
/// drop(mailbox);
/// assert!(sessions.lookup(&7).is_none());
/// ```
pub struct Registry<K, M> {
    inner: Arc<Inner<K, M>>,
}

struct Inner<K, M> {
    entries: Mutex<HashMap<K, Entry<M>>>,
    /// Tells one registration from a later one under the same key.
    next: AtomicU64,
}

struct Entry<M> {
    registration: u64,
    address: Address<M>,
}

impl<K, M> Clone for Registry<K, M> {
    fn clone(&self) -> Self {
        Registry { inner: self.inner.clone() }
    }
}

impl<K: Eq + Hash + Clone + Send + 'static, M: Send + 'static> Default for Registry<K, M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: fmt::Debug, M> fmt::Debug for Registry<K, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries = self.inner.entries.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("Registry").field("keys", &entries.keys().collect::<Vec<_>>()).finish()
    }
}

impl<K, M> Inner<K, M> {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<K, Entry<M>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<K: Eq + Hash + Clone + Send + 'static, M: Send + 'static> Registry<K, M> {
    /// An empty registry.
    pub fn new() -> Self {
        Registry { inner: Arc::new(Inner { entries: Mutex::new(HashMap::new()), next: AtomicU64::new(0) }) }
    }

    /// Registers `mailbox`'s address under `key`, until the mailbox closes
    /// or [`unregister`](Self::unregister) is called. Returns the address.
    ///
    /// Register before the child starts (before `start_child`): if the
    /// start fails, the spec and its mailbox are dropped, and so is the
    /// entry.
    pub fn register(&self, key: K, mailbox: &Mailbox<M>) -> Result<Address<M>, AlreadyRegistered<K>> {
        let address = mailbox.address();
        let registration = self.inner.next.fetch_add(1, Ordering::Relaxed);
        {
            let mut entries = self.inner.entries();
            if entries.contains_key(&key) {
                return Err(AlreadyRegistered { key });
            }
            entries.insert(key.clone(), Entry { registration, address: address.clone() });
        }
        // Outside the registry's lock: the mailbox's hooks look into it.
        mailbox.on_close(Box::new(Unregister { registry: Arc::downgrade(&self.inner), key, registration }));
        Ok(address)
    }

    /// The address registered under `key`.
    pub fn lookup<Q>(&self, key: &Q) -> Option<Address<M>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.entries().get(key).map(|e| e.address.clone())
    }

    /// Removes `key`'s entry, returning its address.
    pub fn unregister<Q>(&self, key: &Q) -> Option<Address<M>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.entries().remove(key).map(|e| e.address)
    }

    /// The keys registered now.
    pub fn keys(&self) -> Vec<K> {
        self.inner.entries().keys().cloned().collect()
    }

    /// How many keys are registered.
    pub fn len(&self) -> usize {
        self.inner.entries().len()
    }

    /// Whether no key is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Removes one registration when its mailbox closes.
struct Unregister<K, M> {
    registry: Weak<Inner<K, M>>,
    key: K,
    registration: u64,
}

impl<K: Eq + Hash + Send, M: Send> OnClose for Unregister<K, M> {
    fn is_stale(&self) -> bool {
        match self.registry.upgrade() {
            Some(inner) => inner.entries().get(&self.key).is_none_or(|e| e.registration != self.registration),
            None => true,
        }
    }

    fn close(self: Box<Self>) {
        let Some(inner) = self.registry.upgrade() else { return };
        let mut entries = inner.entries();
        // A later registration under the same key is not this one's.
        if entries.get(&self.key).is_some_and(|e| e.registration == self.registration) {
            entries.remove(&self.key);
        }
    }
}
