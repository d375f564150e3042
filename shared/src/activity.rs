//! The activity log of a tenant: an append-only record of every SCIM write, import start and
//! end, invitation batch, console sign-in and administrative change, newest first, kept for
//! [`RETENTION_DAYS`] (the TTL attribute removes older entries on DynamoDB). It never holds a
//! secret or a request body: who (a token id, a client id, a user id or `operator`), what, on
//! which resource, and the result.
//!
//! Entries of a tenant share one partition whose sort key is the time inverted, so that a
//! query in ascending order reads the newest first.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::ids::{TenantId, now_rfc3339, random_bytes, to_hex};
use crate::store::{Condition, Item, SkRange, StoreError, Table, first_merged, keys};

/// Days an entry is kept.
pub const RETENTION_DAYS: i64 = 90;

/// What kind of event an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A SCIM write (POST, PUT, PATCH, DELETE, Bulk).
    Scim,
    /// An import started or ended.
    Import,
    /// A batch of invitations sent.
    Invitation,
    /// A console sign-in.
    SignIn,
    /// A change of tokens, API connections, mappings or settings.
    Admin,
}

impl Kind {
    /// Every kind, for filters.
    pub const ALL: [Kind; 5] = [
        Kind::Scim,
        Kind::Import,
        Kind::Invitation,
        Kind::SignIn,
        Kind::Admin,
    ];

    /// The kind's name, as stored and filtered on.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Scim => "scim",
            Kind::Import => "import",
            Kind::Invitation => "invitation",
            Kind::SignIn => "sign_in",
            Kind::Admin => "admin",
        }
    }

    /// Parses a kind's name.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// When (RFC 3339, milliseconds).
    pub at: String,
    /// The kind.
    pub kind: Kind,
    /// Who: a SCIM token id, an API client id, a user id, or `operator`.
    pub actor: String,
    /// What was done (`PATCH`, `import started`, `token revoked`…).
    pub action: String,
    /// On what (`/Users/…`, `job 12`, a community id…).
    pub resource: String,
    /// The outcome (an HTTP status, `succeeded`, a count…).
    pub result: String,
}

impl Event {
    /// An entry of `kind` stamped now.
    pub fn now(kind: Kind, actor: &str, action: &str, resource: &str, result: &str) -> Self {
        Self {
            at: now_rfc3339(),
            kind,
            actor: actor.to_owned(),
            action: action.to_owned(),
            resource: resource.to_owned(),
            result: result.to_owned(),
        }
    }
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this kind.
    pub kind: Option<Kind>,
    /// Only this actor (exact).
    pub actor: Option<String>,
    /// Only resources containing this text.
    pub resource: Option<String>,
}

impl Filter {
    fn keeps(&self, e: &Event) -> bool {
        self.kind.is_none_or(|k| k == e.kind)
            && self.actor.as_ref().is_none_or(|a| *a == e.actor)
            && self
                .resource
                .as_ref()
                .is_none_or(|r| e.resource.contains(r.as_str()))
    }
}

/// Entries looked at per request at most while filtering.
const SCAN_BUDGET: usize = 5_000;

/// The activity log over one table.
#[derive(Clone)]
pub struct Activity {
    table: Arc<dyn Table>,
    /// The background writer's queue, when entries are written in batches.
    queue: Option<tokio::sync::mpsc::Sender<(TenantId, Event)>>,
}

/// Entries queued for the background writer before a recorder writes its own at once.
const QUEUED: usize = 10_000;
/// Entries the background writer puts in one batch.
const BATCH: usize = 100;

/// The entry `event` of `t`, keyed now.
fn item(t: &TenantId, event: &Event) -> Item {
    let now = chrono::Utc::now();
    let key = keys::activity_entry(t, sort_key(now.timestamp_micros()));
    let body = serde_json::to_vec(event).expect("an event serialises");
    Item::new(key, 1, body).expiring_at(now.timestamp() + RETENTION_DAYS * 86_400)
}

/// Writes queued entries, up to [`BATCH`] per write (one commit of the embedded store).
async fn write_batches(
    table: Arc<dyn Table>,
    mut queue: tokio::sync::mpsc::Receiver<(TenantId, Event)>,
) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let writes = batch
            .iter()
            .map(|(t, e)| crate::store::Write::Put {
                item: item(t, e),
                condition: Condition::Always,
            })
            .collect();
        if let Err(e) = table.batch_write(writes).await {
            tracing::warn!(error = %e, entries = batch.len(), "activity entries were not recorded");
        }
    }
}

fn sort_key(micros: i64) -> String {
    let inverted = u64::MAX - u64::try_from(micros).unwrap_or_default();
    format!("A#{inverted:016x}#{}", to_hex(&random_bytes::<4>()))
}

/// The cursor naming the entry at sort key `sk`: URL-safe (`<16 hex>.<8 hex>`).
fn cursor_of(sk: &str) -> String {
    sk.trim_start_matches("A#").replace('#', ".")
}

/// The sort key a cursor names, if it is one this log answered.
fn cursor_key(cursor: &str) -> Option<String> {
    let (time, random) = cursor.split_once('.')?;
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hex(time, 16) && hex(random, 8)).then(|| format!("A#{time}#{random}"))
}

impl Activity {
    /// The log kept in `table`, each entry written before [`record`](Self::record) returns
    /// (Lambda: nothing runs after the answer).
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table, queue: None }
    }

    /// The log kept in `table`, entries written by a background task in batches of up to 100
    /// (`muster serve`: one commit of the embedded store for many SCIM writes instead of one
    /// each). Entries still queued when the process dies are lost (at most the last few
    /// milliseconds' worth). Must be called within a Tokio runtime.
    pub fn batched(table: Arc<dyn Table>) -> Self {
        let (tx, rx) = tokio::sync::mpsc::channel(QUEUED);
        tokio::spawn(write_batches(table.clone(), rx));
        Self {
            table,
            queue: Some(tx),
        }
    }

    /// Appends `event` to `t`'s log. A failure is logged, never returned: the activity log
    /// must not make the change it records fail.
    pub async fn record(&self, t: &TenantId, event: Event) {
        let event = match &self.queue {
            Some(queue) => match queue.try_send((t.clone(), event)) {
                Ok(()) => return,
                Err(tokio::sync::mpsc::error::TrySendError::Full((_, e)))
                | Err(tokio::sync::mpsc::error::TrySendError::Closed((_, e))) => e,
            },
            None => event,
        };
        if let Err(e) = self.table.put(item(t, &event), Condition::NotExists).await {
            tracing::warn!(tenant = %t, error = %e, "an activity entry was not recorded");
        }
    }

    /// Up to `count` entries of `t` matching `filter`, newest first, starting after the entry
    /// `cursor` names (a cursor answered by an earlier page); answers the entries and the
    /// cursor of the next page, if there may be more. A malformed cursor is `Invalid`.
    pub async fn page(
        &self,
        t: &TenantId,
        filter: &Filter,
        cursor: Option<&str>,
        count: usize,
    ) -> Result<(Vec<Event>, Option<String>), StoreError> {
        let after_key = match cursor {
            None => None,
            Some(c) => {
                Some(cursor_key(c).ok_or_else(|| StoreError::Invalid("invalid cursor".into()))?)
            }
        };
        let count = count.clamp(1, 200);
        let mut after = after_key;
        let (mut out, mut scanned) = (Vec::new(), 0usize);
        loop {
            let from = after
                .clone()
                .map_or_else(|| "A#".to_owned(), |a| format!("{a}!"));
            let range = SkRange::Between {
                from,
                to: "A$".into(),
            };
            let shards = keys::activity_shards(t);
            let (items, full) = first_merged(&*self.table, &shards, &range, 500).await?;
            for item in &items {
                scanned += 1;
                after = Some(item.key.sk.clone());
                let event: Event = serde_json::from_slice(&item.body)
                    .map_err(|e| StoreError::Backend(format!("corrupt activity entry: {e}")))?;
                if filter.keeps(&event) {
                    out.push(event);
                    if out.len() == count {
                        return Ok((out, after.as_deref().map(cursor_of)));
                    }
                }
            }
            if !full {
                return Ok((out, None));
            }
            if scanned >= SCAN_BUDGET {
                return Ok((out, after.as_deref().map(cursor_of)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::EmbeddedTable;

    fn acme() -> TenantId {
        TenantId::parse("acme").unwrap()
    }

    #[tokio::test]
    async fn batched_entries_all_arrive_and_read_back_newest_first() {
        let table: Arc<dyn Table> = Arc::new(EmbeddedTable::in_memory());
        let log = Activity::batched(table.clone());
        for i in 0..250 {
            let e = Event::now(Kind::Scim, "tok", "POST", &format!("/Users/{i:03}"), "201");
            log.record(&acme(), e).await;
        }
        let walk = |table: Arc<dyn Table>| async move {
            let (mut all, mut cursor) = (Vec::new(), None::<String>);
            loop {
                let (page, next) = Activity::new(table.clone())
                    .page(&acme(), &Filter::default(), cursor.as_deref(), 64)
                    .await
                    .unwrap();
                assert!(page.len() <= 64);
                all.extend(page);
                match next {
                    Some(c) => cursor = Some(c),
                    None => return all,
                }
            }
        };
        let mut all = walk(table.clone()).await;
        for _ in 0..200 {
            if all.len() == 250 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            all = walk(table.clone()).await;
        }
        assert_eq!(all.len(), 250, "each entry once");
        let times: Vec<&str> = all.iter().map(|e| e.at.as_str()).collect();
        let mut sorted = times.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(times, sorted, "newest first");
    }

    #[tokio::test]
    async fn only_cursors_the_log_answered_are_taken() {
        let log = Activity::new(Arc::new(EmbeddedTable::in_memory()));
        for bad in [
            "",
            "x",
            "A#0000000000000000#00000000",
            "zzzzzzzzzzzzzzzz.00000000",
        ] {
            let r = log.page(&acme(), &Filter::default(), Some(bad), 10).await;
            assert!(matches!(r, Err(StoreError::Invalid(_))), "{bad:?}");
        }
    }
}
