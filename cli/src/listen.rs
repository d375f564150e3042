//! The accept loop of `muster serve`, which bounds what idle or slow connections can hold:
//! a connection must send a request's headers within the header timeout, is closed after
//! the keep-alive timeout without a request in flight, and at most `max_connections` stay
//! open. At the cap, a new connection makes room by closing the one idle longest; when every
//! open connection has a request in flight, the new one is refused at once. So sockets
//! opened and left silent can never starve `/health` or a real client.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::time::Instant;
use tower::ServiceExt;

/// The bounds on connections.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time to send a request's headers, counted from connecting or from the previous answer.
    pub header_timeout: Duration,
    /// Time a connection may stay open with no request in flight.
    pub keep_alive_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
}

/// One open connection as the registry sees it.
struct Slot {
    in_flight: AtomicUsize,
    /// Milliseconds since `start` at which the connection last became idle.
    idle_since_ms: AtomicU64,
    close: Notify,
}

impl Slot {
    fn idle_for(&self, start: Instant) -> Option<Duration> {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return None;
        }
        let since = Duration::from_millis(self.idle_since_ms.load(Ordering::SeqCst));
        Some(start.elapsed().saturating_sub(since))
    }

    fn mark_idle(&self, start: Instant) {
        let now = start.elapsed().as_millis() as u64;
        self.idle_since_ms.store(now, Ordering::SeqCst);
    }
}

/// The open connections.
struct Registry {
    start: Instant,
    next: AtomicU64,
    slots: Mutex<HashMap<u64, Arc<Slot>>>,
}

impl Registry {
    /// A slot for a new connection, closing the longest-idle one at the cap; `None` when the
    /// cap is reached and every connection is busy.
    fn admit(&self, max: usize) -> Option<(u64, Arc<Slot>)> {
        let mut slots = self.slots.lock().unwrap();
        if slots.len() >= max && !self.evict_idlest(&mut slots) {
            return None;
        }
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        let slot = Arc::new(Slot {
            in_flight: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(0),
            close: Notify::new(),
        });
        slot.mark_idle(self.start);
        slots.insert(id, slot.clone());
        Some((id, slot))
    }

    /// Asks the connection idle longest to close and forgets it; false when none is idle.
    fn evict_idlest(&self, slots: &mut HashMap<u64, Arc<Slot>>) -> bool {
        let victim = slots
            .iter()
            .filter_map(|(id, s)| s.idle_for(self.start).map(|idle| (idle, *id)))
            .max();
        match victim.and_then(|(_, id)| slots.remove(&id)) {
            Some(slot) => {
                slot.close.notify_one();
                true
            }
            None => false,
        }
    }

    fn leave(&self, id: u64) {
        self.slots.lock().unwrap().remove(&id);
    }

    fn close_all(&self) {
        for slot in self.slots.lock().unwrap().values() {
            slot.close.notify_one();
        }
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes; then stops
/// accepting and lets open requests finish (up to 10 s).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let registry = Arc::new(Registry {
        start: Instant::now(),
        next: AtomicU64::new(0),
        slots: Mutex::new(HashMap::new()),
    });
    let mut shutdown = std::pin::pin!(shutdown);
    let tasks = Tasks::default();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors, say: make room and breathe.
                tracing::warn!(error = %e, "accept failed");
                registry.evict_idlest(&mut registry.slots.lock().unwrap());
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let Some((id, slot)) = registry.admit(limits.max_connections.max(1)) else {
            tracing::warn!(%peer, "connection refused: every connection is busy");
            drop(stream);
            continue;
        };
        let (router, registry) = (router.clone(), registry.clone());
        tasks.spawn(async move {
            connection(stream, peer, router, limits, &slot, registry.start).await;
            registry.leave(id);
        });
    }
    registry.close_all();
    let _ = tokio::time::timeout(Duration::from_secs(10), tasks.wait()).await;
}

/// Spawned connection tasks, counted so that shutdown can wait for them.
#[derive(Default)]
struct Tasks(Arc<AtomicUsize>, Arc<Notify>);

impl Tasks {
    fn spawn(&self, f: impl std::future::Future<Output = ()> + Send + 'static) {
        let (count, done) = (self.0.clone(), self.1.clone());
        count.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            f.await;
            if count.fetch_sub(1, Ordering::SeqCst) == 1 {
                done.notify_waiters();
            }
        });
    }

    async fn wait(&self) {
        while self.0.load(Ordering::SeqCst) > 0 {
            let notified = self.1.notified();
            if self.0.load(Ordering::SeqCst) == 0 {
                break;
            }
            notified.await;
        }
    }
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    slot: &Arc<Slot>,
    start: Instant,
) {
    let svc_slot = slot.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let (router, slot) = (router.clone(), svc_slot.clone());
        slot.in_flight.fetch_add(1, Ordering::SeqCst);
        async move {
            let mut req = req.map(axum::body::Body::new);
            req.extensions_mut().insert(ConnectInfo(peer));
            let response = router.oneshot(req).await;
            slot.in_flight.fetch_sub(1, Ordering::SeqCst);
            slot.mark_idle(start);
            response.map_err(|e: Infallible| match e {})
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    let mut closing = false;
    loop {
        let check = match slot.idle_for(start) {
            Some(idle) => limits.keep_alive_timeout.saturating_sub(idle),
            None => limits.keep_alive_timeout,
        };
        tokio::select! {
            _ = conn.as_mut() => return,
            () = slot.close.notified(), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            () = tokio::time::sleep(check), if !closing => {
                if slot.idle_for(start).is_some_and(|idle| idle >= limits.keep_alive_timeout) {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}
