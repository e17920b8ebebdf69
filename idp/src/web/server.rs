//! The HTTP server: our own accept loop over hyper's HTTP/1 connections, so that slow and idle
//! clients cannot hold the server (issue #10). What it bounds:
//!
//! - the head: once a client sent the first byte of a request, it has `header_timeout` to
//!   finish the request line and headers (a slowloris dribbling header bytes is cut); a new
//!   connection has as long to send its first byte;
//! - the idle time of a kept-alive connection between two requests (`idle_timeout`);
//! - the number of open connections (`max_connections`): at the cap the loop stops accepting
//!   until one closes, so the process never runs out of file descriptors, and the clients
//!   beyond wait in the kernel's listen queue and are served once a slot frees (closing them
//!   at once would turn a short peak into errors for everyone, and still costs an `accept`);
//! - the body is bounded by `middleware::body_deadline`, inside the router.
//!
//! Each request gets the `ConnectInfo<SocketAddr>` extension, as axum's
//! `into_make_service_with_connect_info` gives it. On shutdown the loop stops accepting, every
//! connection finishes the request under way and closes, and `serve` returns once all are
//! closed (the timeouts above bound that wait too).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;

use crate::config::ServerLimits;

/// Serves `router` on `listener` until `shutdown` resolves, then lets every connection finish
/// its request and returns when all are closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopped) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        // At the cap, wait for a connection to close before accepting another.
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    drop(permit);
                    accept_failed(&err).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(stream, remote, router.clone(), limits, stopped.clone(), permit));
    }
    // New connections are refused from here on.
    drop(listener);
    let _ = stop.send(true);
    // Every open connection holds a slot: all of them back means all connections are closed.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
    Ok(())
}

/// A failed `accept`: a connection reset before we took it is nothing; running out of file
/// descriptors (EMFILE, ENFILE) or memory is logged and waited out briefly instead of spinning.
async fn accept_failed(err: &std::io::Error) {
    use std::io::ErrorKind;
    if matches!(err.kind(), ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::ConnectionRefused) {
        return;
    }
    tracing::error!(error = %err, "accepting a connection failed; retrying shortly");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
}

/// Serves one connection; closes it when its head, or its idle wait, outlasts its limit.
async fn connection(
    stream: TcpStream,
    remote: SocketAddr,
    router: Router,
    limits: ServerLimits,
    mut stopped: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(WatchedIo { inner: stream, activity: activity.clone() });
    let service = Handler { router, remote, activity: activity.clone() };
    let mut builder = hyper::server::conn::http1::Builder::new();
    // hyper's own header timer restarts whenever the connection goes idle, which would make the
    // idle timeout equal to the header timeout: `Activity` measures both instead.
    builder.header_read_timeout(None).keep_alive(true);
    let mut conn = pin!(builder.serve_connection(io, service));
    let mut draining = false;
    // The loop is not woken per request (that cost ~10% of a small request's throughput): it
    // wakes at the deadline, or `recheck` after it went to sleep, whichever comes first. A
    // phase change only moves the deadline later, except a new head on an idle connection,
    // whose deadline is at least `header_timeout` ≥ `recheck` after the sleep began: so every
    // deadline is still met exactly.
    let recheck = limits.header_timeout.min(limits.idle_timeout);
    loop {
        let now = Instant::now();
        let deadline = activity.deadline(&limits);
        if deadline.is_some_and(|d| d <= now) {
            tracing::debug!(%remote, "closing a slow or idle connection");
            break;
        }
        let wake = deadline.map_or(now + recheck, |d| d.min(now + recheck));
        tokio::select! {
            served = conn.as_mut() => {
                if let Err(err) = served {
                    tracing::debug!(error = %err, %remote, "connection ended with an error");
                }
                break;
            }
            () = tokio::time::sleep_until(wake) => {}
            _ = stopped.changed(), if !draining => {
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Where a connection is between requests, and since when.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// Accepted; no byte yet.
    Fresh(Instant),
    /// Kept alive after a response; no byte of the next request yet.
    Idle(Instant),
    /// The first bytes of a request arrived; its head is not complete.
    Head(Instant),
    /// A request is being handled (its body is bounded by `middleware::body_deadline`).
    Busy,
}

struct Activity {
    phase: Mutex<Phase>,
}

impl Activity {
    fn new() -> Self {
        Self { phase: Mutex::new(Phase::Fresh(Instant::now())) }
    }

    fn set(&self, update: impl FnOnce(Phase) -> Option<Phase>) {
        let mut phase = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(next) = update(*phase) {
            *phase = next;
        }
    }

    fn bytes_read(&self) {
        self.set(|phase| match phase {
            Phase::Fresh(_) | Phase::Idle(_) => Some(Phase::Head(Instant::now())),
            Phase::Head(_) | Phase::Busy => None,
        });
    }

    fn request_started(&self) {
        self.set(|_| Some(Phase::Busy));
    }

    fn response_sent(&self) {
        self.set(|_| Some(Phase::Idle(Instant::now())));
    }

    fn deadline(&self, limits: &ServerLimits) -> Option<Instant> {
        match *self.phase.lock().unwrap_or_else(PoisonError::into_inner) {
            Phase::Fresh(since) | Phase::Head(since) => Some(since + limits.header_timeout),
            Phase::Idle(since) => Some(since + limits.idle_timeout),
            Phase::Busy => None,
        }
    }
}

/// The socket, telling `Activity` when request bytes arrive.
struct WatchedIo {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for WatchedIo {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.bytes_read();
        }
        polled
    }
}

impl AsyncWrite for WatchedIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// The router as a hyper service of one connection.
#[derive(Clone)]
struct Handler {
    router: Router,
    remote: SocketAddr,
    activity: Arc<Activity>,
}

impl hyper::service::Service<Request<Incoming>> for Handler {
    type Response = Response<SentBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        self.activity.request_started();
        request.extensions_mut().insert(ConnectInfo(self.remote));
        let router = self.router.clone();
        let sent = ResponseSent(self.activity.clone());
        Box::pin(async move {
            let response = match router.oneshot(request.map(Body::new)).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            Ok(response.map(|inner| SentBody { inner, _sent: sent }))
        })
    }
}

/// Marks the connection idle when dropped: hyper drops the response body once it is written.
struct ResponseSent(Arc<Activity>);

impl Drop for ResponseSent {
    fn drop(&mut self) {
        self.0.response_sent();
    }
}

/// A response body that marks its connection idle once written (or abandoned).
struct SentBody {
    inner: Body,
    _sent: ResponseSent,
}

impl http_body::Body for SentBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
