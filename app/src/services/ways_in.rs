//! Codes and links in memory: a room joining at once costs the database one read per code and
//! `CACHED_FOR`, not one per participant. Only ways in that lead to a session are kept; a wrong
//! code still reads the database, behind the join budgets.
//!
//! Kept right by forgetting, never by updating:
//! - a session's entries go when the live hub hears that it changed (`Live::changed`, or a notice
//!   from another instance), which every mutation of a code, a link, the padlock or a session's
//!   existence makes once it has committed; so when "Generate a new code", "Close session" or a
//!   deletion answers its host, this instance refuses the old code, and the others do as soon
//!   as the notice reaches them;
//! - everything goes when notices may have been missed (the listening connection came back);
//! - a lookup that read the database before a forgetting never stores what it read (`epoch`);
//! - an entry lives `CACHED_FOR` at most, which bounds how long another instance could be
//!   wrong if notices stopped reaching it.
use crate::ids::SessionId;
use crate::storage::{SessionRecord, WayInKind};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a way in is trusted without reading the database again.
pub const CACHED_FOR: Duration = Duration::from_secs(1);
/// Ways in held at most (about 300 bytes each); past it the stale ones go, or all of them.
pub const CACHED_MAX: usize = 20_000;

pub struct WaysInCache {
    inner: Mutex<Inner>,
    trusted_for: Duration,
}

impl Default for WaysInCache {
    fn default() -> Self {
        Self::trusting_for(CACHED_FOR)
    }
}

#[derive(Default)]
struct Inner {
    /// Bumped by every forgetting.
    epoch: u64,
    codes: HashMap<String, (SessionRecord, Instant)>,
    links: HashMap<String, (SessionRecord, Instant)>,
}

impl Inner {
    fn map(&mut self, kind: WayInKind) -> &mut HashMap<String, (SessionRecord, Instant)> {
        match kind {
            WayInKind::Code => &mut self.codes,
            WayInKind::Link => &mut self.links,
        }
    }
}

impl WaysInCache {
    /// Entries trusted for `trusted_for` instead of `CACHED_FOR`: tests that must tell a
    /// forgetting from an expiry trust them for minutes.
    pub fn trusting_for(trusted_for: Duration) -> Self {
        Self { inner: Mutex::default(), trusted_for }
    }

    /// The session `value` leads to, if it was read less than `CACHED_FOR` ago and nothing
    /// about that session changed since.
    pub fn get(&self, kind: WayInKind, value: &str, now: Instant) -> Option<SessionRecord> {
        let mut inner = self.lock();
        let (record, read_at) = inner.map(kind).get(value)?;
        (now.duration_since(*read_at) < self.trusted_for).then(|| record.clone())
    }

    /// To take before reading the database, and give back to `keep`.
    pub fn epoch(&self) -> u64 {
        self.lock().epoch
    }

    /// Keeps what a lookup read, unless something was forgotten since it began (`epoch`): that
    /// read may predate the change.
    pub fn keep(&self, kind: WayInKind, value: &str, record: SessionRecord, epoch: u64, read_at: Instant) {
        let mut inner = self.lock();
        if inner.epoch != epoch {
            return;
        }
        if inner.codes.len() + inner.links.len() >= CACHED_MAX {
            let trusted_for = self.trusted_for;
            let fresh = |(_, at): &mut (SessionRecord, Instant)| read_at.duration_since(*at) < trusted_for;
            inner.codes.retain(|_, entry| fresh(entry));
            inner.links.retain(|_, entry| fresh(entry));
            if inner.codes.len() + inner.links.len() >= CACHED_MAX {
                inner.codes.clear();
                inner.links.clear();
            }
        }
        inner.map(kind).insert(value.to_owned(), (record, read_at));
    }

    /// After `session` changed: its code, link, padlock or existence may be another now.
    pub fn forget_session(&self, session: SessionId) {
        let mut inner = self.lock();
        inner.epoch += 1;
        inner.codes.retain(|_, (record, _)| record.id != session);
        inner.links.retain(|_, (record, _)| record.id != session);
    }

    /// When changes may have been missed.
    pub fn forget_all(&self) {
        let mut inner = self.lock();
        inner.epoch += 1;
        inner.codes.clear();
        inner.links.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for WaysInCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("WaysInCache").field("codes", &inner.codes.len()).field("links", &inner.links.len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UserId;
    use crate::rules::session_code::SessionCode;

    fn record(id: SessionId, code: &str) -> SessionRecord {
        SessionRecord {
            id,
            owner_id: UserId(uuid::Uuid::nil()),
            title: "Class".into(),
            is_open: true,
            code: SessionCode::parse(code).unwrap(),
            link_token: "token".into(),
            created_at: 0,
            active_slide_id: None,
            last_hosted_at: 0,
        }
    }

    #[test]
    fn a_change_forgets_the_session_and_a_read_from_before_it_is_not_kept() {
        let cache = WaysInCache::default();
        let (a, b) = (SessionId(uuid::Uuid::from_u128(1)), SessionId(uuid::Uuid::from_u128(2)));
        let now = Instant::now();
        let epoch = cache.epoch();
        cache.keep(WayInKind::Code, "123456", record(a, "123456"), epoch, now);
        cache.keep(WayInKind::Code, "654321", record(b, "654321"), epoch, now);
        assert_eq!(cache.get(WayInKind::Code, "123456", now).map(|r| r.id), Some(a));
        assert_eq!(cache.get(WayInKind::Link, "123456", now), None, "codes and links apart");

        // A read begins, the session changes (a new code), the read ends: it is not kept.
        let before = cache.epoch();
        cache.forget_session(a);
        assert_eq!(cache.get(WayInKind::Code, "123456", now), None);
        assert_eq!(cache.get(WayInKind::Code, "654321", now).map(|r| r.id), Some(b), "other sessions stay");
        cache.keep(WayInKind::Code, "123456", record(a, "123456"), before, now);
        assert_eq!(cache.get(WayInKind::Code, "123456", now), None);

        cache.forget_all();
        assert_eq!(cache.get(WayInKind::Code, "654321", now), None);
    }

    #[test]
    fn entries_expire_and_their_number_is_bounded() {
        let cache = WaysInCache::default();
        let now = Instant::now();
        let id = SessionId(uuid::Uuid::from_u128(1));
        cache.keep(WayInKind::Code, "123456", record(id, "123456"), cache.epoch(), now);
        assert!(cache.get(WayInKind::Code, "123456", now + CACHED_FOR / 2).is_some());
        assert!(cache.get(WayInKind::Code, "123456", now + CACHED_FOR).is_none());

        for i in 0..CACHED_MAX + 10 {
            cache.keep(WayInKind::Link, &format!("link-{i}"), record(id, "123456"), cache.epoch(), now);
        }
        let held = {
            let inner = cache.lock();
            inner.codes.len() + inner.links.len()
        };
        assert!(held <= CACHED_MAX, "{held} entries");
        assert!(cache.get(WayInKind::Link, &format!("link-{}", CACHED_MAX + 9), now).is_some(), "the newest is kept");
    }
}
