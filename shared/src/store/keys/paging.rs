//! Keys of the page hints: where the page of a listing that starts at a given `startIndex`
//! resumes, remembered from the page before it (see `directory::paging`).

use crate::ids::TenantId;
use crate::store::Key;

/// The hint of the page at `start_index` of the records whose sort keys start with `prefix`.
pub fn page_hint(t: &TenantId, prefix: &str, start_index: usize) -> Key {
    Key::new(format!("T#{t}#PAGE"), format!("{prefix}{start_index}"))
}
