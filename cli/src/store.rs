//! Opening the store: the process that holds the embedded file (`muster serve`, or an admin
//! command run while no serve does) lends it on a socket in the data directory; the others
//! borrow it from there.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use muster::store::{EmbeddedTable, Lent, SocketTable, Table};

use crate::DataArgs;

/// Where a running `muster serve` lends its store, in the data directory.
const SOCKET: &str = "muster.sock";

/// How long an open waits for another command that holds the file (each holds it for one
/// command's work) before giving up.
const WAIT_FOR_FILE: Duration = Duration::from_secs(10);

/// The store this command opened itself, lent until [`release`].
static LENT: std::sync::Mutex<Option<Lent>> = std::sync::Mutex::new(None);

/// Stops lending the store this command opened (removing its socket), before it exits.
pub fn release() {
    drop(LENT.lock().expect("never poisoned").take());
}

/// Opens the store for an admin command: the DynamoDB table with `--aws`; else the store a
/// running `muster serve` lends in the data directory (created if needed), or the embedded
/// file itself when none does (then lent by this command until [`release`]). Refuses a table
/// written in another key layout.
pub async fn open_store(data: &DataArgs) -> anyhow::Result<Arc<dyn Table>> {
    let table = match aws_table(data).await? {
        Some(table) => table,
        None => {
            // Lent for as long as this command runs, so that a `muster check` run beside a
            // long command (a tenant-wide derivation) reads the same store.
            let (table, lent) = hold_or_borrow(&data.data, true).await?;
            *LENT.lock().expect("never poisoned") = lent;
            table
        }
    };
    muster::store::ensure_schema(&*table).await?;
    Ok(table)
}

/// Opens the store for `muster serve`, which keeps the embedded file for itself and lends it
/// to admin commands until the answer's [`Lent`] is dropped (none with `--aws`, or when the
/// socket cannot be made: then commands wait for serve to stop, as they say).
pub async fn open_for_serve(data: &DataArgs) -> anyhow::Result<(Arc<dyn Table>, Option<Lent>)> {
    let (table, lent) = match aws_table(data).await? {
        Some(table) => (table, None),
        None => hold_or_borrow(&data.data, false).await?,
    };
    muster::store::ensure_schema(&*table).await?;
    Ok((table, lent))
}

async fn aws_table(data: &DataArgs) -> anyhow::Result<Option<Arc<dyn Table>>> {
    std::fs::create_dir_all(&data.data)
        .with_context(|| format!("cannot create the data directory {}", data.data.display()))?;
    if !data.aws {
        return Ok(None);
    }
    let table = muster::store::DynamoTable::from_env(data.table.clone()).await?;
    Ok(Some(Arc::new(table)))
}

/// The embedded store of the data directory `dir`: borrowed from the process that lends it
/// when `borrow` allows, else the file opened and lent at the socket (the [`Lent`], unless the
/// socket cannot be made). Waits up to [`WAIT_FOR_FILE`] while another program holds the file
/// without lending it to us.
async fn hold_or_borrow(
    dir: &Path,
    borrow: bool,
) -> anyhow::Result<(Arc<dyn Table>, Option<Lent>)> {
    let (socket, file) = (dir.join(SOCKET), dir.join("muster.redb"));
    let give_up = Instant::now() + WAIT_FOR_FILE;
    loop {
        if borrow && let Ok(lent) = SocketTable::connect(&socket).await {
            return Ok((Arc::new(lent), None));
        }
        if let Some(own) = EmbeddedTable::open_unless_held(&file)? {
            let own: Arc<dyn Table> = Arc::new(own);
            let lent = match muster::store::lend(own.clone(), &socket).await {
                Ok(lent) => Some(lent),
                Err(e) => {
                    tracing::warn!(socket = %socket.display(), error = %e,
                        "cannot lend the store: other muster commands will wait until this one ends");
                    None
                }
            };
            return Ok((own, lent));
        }
        anyhow::ensure!(
            Instant::now() < give_up,
            "{} is held by another program (another muster serve, or a long admin command); retry when it ends",
            file.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
