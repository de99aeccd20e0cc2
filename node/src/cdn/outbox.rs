//! A connection's outgoing queue, bounded in bytes, and the global memory budget every queue and the cache share.
//!
//! Frames are pushed as shared encoded bodies (`Arc<[u8]>`: one encoding for every recipient of a message) and
//! written in order by one writer task per connection, so a slow connection never blocks the others. A push that
//! would take the connection's queue over its cap marks the reader slow (the caller disconnects it); a push that
//! would take all queues plus the cache over the memory cap is refused (the caller drops the frame). An empty queue
//! always takes one frame, so a cap smaller than the largest frame still lets every frame through.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::frame;
use super::metrics::BrokerMetrics;

/// The memory shared by every outgoing queue and the cache, against one cap.
#[derive(Debug)]
pub struct Memory {
    cap: usize,
    queued: AtomicUsize,
    cached: AtomicUsize,
}

impl Memory {
    /// A budget of `cap` bytes.
    pub fn new(cap: usize) -> Self {
        Memory { cap, queued: AtomicUsize::new(0), cached: AtomicUsize::new(0) }
    }

    /// Bytes waiting in queues.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Whether `extra` more bytes fit beside what is queued and cached.
    pub fn fits(&self, extra: usize) -> bool {
        self.queued() + self.cached.load(Ordering::Relaxed) + extra <= self.cap
    }

    /// Records the cache's size.
    pub fn set_cached(&self, bytes: usize) {
        self.cached.store(bytes, Ordering::Relaxed);
    }

    fn reserve(&self, n: usize) -> bool {
        let cached = self.cached.load(Ordering::Relaxed);
        self.queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |q| (q + cached + n <= self.cap).then_some(q + n))
            .is_ok()
    }

    fn release(&self, n: usize) {
        self.queued.fetch_sub(n, Ordering::AcqRel);
    }
}

/// What became of a pushed frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Queued for writing.
    Queued,
    /// The connection's queue is full: its reader is too slow (the caller closes it).
    SlowReader,
    /// The global memory cap is reached: the frame was dropped.
    MemoryCap,
    /// The connection is closing: the frame was dropped.
    Closed,
}

struct Item {
    body: Arc<[u8]>,
    not_before: Option<Instant>,
}

/// The sending side of one connection: push frames, or close it.
#[derive(Clone)]
pub struct Outbox {
    tx: mpsc::UnboundedSender<Item>,
    queued: Arc<AtomicUsize>,
    cap: usize,
    memory: Arc<Memory>,
    delay: Option<Duration>,
    close: Arc<watch::Sender<bool>>,
    metrics: BrokerMetrics,
}

impl Outbox {
    /// An outbox for a connection whose writing half is `io`, queueing at most `cap` bytes, each frame held `delay`
    /// (a misbehaving broker's drill); spawns the writer task. Returns the outbox and a receiver that turns true
    /// when the connection is to close (the reading side waits on it too).
    pub fn spawn<W>(
        io: W,
        cap: usize,
        memory: Arc<Memory>,
        delay: Option<Duration>,
        metrics: BrokerMetrics,
    ) -> (Outbox, watch::Receiver<bool>)
    where
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (tx, rx) = mpsc::unbounded_channel();
        let (close, closed) = watch::channel(false);
        let queued = Arc::new(AtomicUsize::new(0));
        let writer = Writer { queued: queued.clone(), memory: memory.clone(), metrics: metrics.clone() };
        let outbox = Outbox { tx, queued, cap, memory, delay, close: Arc::new(close), metrics };
        tokio::spawn(writer.run(io, rx, closed.clone()));
        (outbox, closed)
    }

    /// Queues one encoded frame body.
    pub fn push(&self, body: Arc<[u8]>) -> Pushed {
        if *self.close.borrow() {
            return Pushed::Closed;
        }
        let n = body.len();
        let before = self.queued.fetch_add(n, Ordering::AcqRel);
        if before > 0 && before + n > self.cap {
            self.queued.fetch_sub(n, Ordering::AcqRel);
            return Pushed::SlowReader;
        }
        if !self.memory.reserve(n) {
            self.queued.fetch_sub(n, Ordering::AcqRel);
            return Pushed::MemoryCap;
        }
        self.metrics.queued_bytes.set(self.memory.queued() as i64);
        let not_before = self.delay.map(|d| Instant::now() + d);
        if self.tx.send(Item { body, not_before }).is_err() {
            // The writer is gone (it releases what it held; this frame never reached it).
            self.queued.fetch_sub(n, Ordering::AcqRel);
            self.memory.release(n);
            return Pushed::Closed;
        }
        Pushed::Queued
    }

    /// Closes the connection: the writer stops (dropping what is queued) and the reader is told.
    pub fn close(&self) {
        self.close.send_replace(true);
    }

    /// Whether [`Outbox::close`] was called.
    pub fn is_closed(&self) -> bool {
        *self.close.borrow()
    }
}

struct Writer {
    queued: Arc<AtomicUsize>,
    memory: Arc<Memory>,
    metrics: BrokerMetrics,
}

impl Writer {
    async fn run<W: AsyncWrite + Unpin>(
        self,
        io: W,
        mut rx: mpsc::UnboundedReceiver<Item>,
        mut closed: watch::Receiver<bool>,
    ) {
        let mut io = BufWriter::with_capacity(64 << 10, io);
        let work = async {
            while let Some(item) = rx.recv().await {
                if let Some(t) = item.not_before
                    && t > Instant::now()
                {
                    // What is buffered is due already: out with it before holding this one.
                    io.flush().await?;
                    tokio::time::sleep_until(t).await;
                }
                let n = item.body.len();
                let wrote = frame::write_raw(&mut io, &item.body).await;
                self.done(n);
                wrote?;
                self.metrics.frame("out", n);
                if rx.is_empty() {
                    io.flush().await?;
                }
            }
            Ok::<(), std::io::Error>(())
        };
        tokio::select! {
            r = work => if let Err(e) = r { tracing::debug!("connection write failed: {e}") },
            _ = super::fired(&mut closed) => {}
        }
        // Whatever happened, the connection is over: tell the reader, release what is still queued.
        rx.close();
        while let Ok(item) = rx.try_recv() {
            self.done(item.body.len());
        }
        let _ = io.shutdown().await;
    }

    fn done(&self, n: usize) {
        self.queued.fetch_sub(n, Ordering::AcqRel);
        self.memory.release(n);
        self.metrics.queued_bytes.set(self.memory.queued() as i64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(n: usize) -> Arc<[u8]> {
        vec![7u8; n].into()
    }

    #[tokio::test]
    async fn a_full_queue_marks_the_reader_slow_and_memory_is_released_on_close() {
        // A pipe nobody reads: the writer blocks once its buffer is full.
        let (client, server) = tokio::io::duplex(1024);
        let memory = Arc::new(Memory::new(1 << 20));
        let (out, closed) = Outbox::spawn(server, 10_000, memory.clone(), None, BrokerMetrics::new());
        let mut results = Vec::new();
        for _ in 0..100 {
            results.push(out.push(body(1000)));
        }
        assert!(results.contains(&Pushed::SlowReader), "{results:?}");
        assert!(memory.queued() <= 10_000 + 1000);
        out.close();
        let mut closed = closed;
        super::super::fired(&mut closed).await;
        // The writer drains and releases.
        for _ in 0..100 {
            if memory.queued() == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(memory.queued(), 0);
        assert_eq!(out.push(body(10)), Pushed::Closed);
        drop(client);
    }

    #[tokio::test]
    async fn the_memory_cap_drops_frames_but_an_empty_queue_takes_one_big_frame() {
        let (_client, server) = tokio::io::duplex(16);
        let memory = Arc::new(Memory::new(5000));
        memory.set_cached(1000);
        let (out, _closed) = Outbox::spawn(server, 100, memory.clone(), None, BrokerMetrics::new());
        assert_eq!(out.push(body(3000)), Pushed::Queued, "an empty queue takes a frame over its cap");
        let (_c2, s2) = tokio::io::duplex(16);
        let (other, _) = Outbox::spawn(s2, 1 << 20, memory.clone(), None, BrokerMetrics::new());
        assert_eq!(other.push(body(1500)), Pushed::MemoryCap);
        assert_eq!(other.push(body(900)), Pushed::Queued);
    }

    #[tokio::test]
    async fn frames_arrive_in_order_and_whole() {
        let (mut client, server) = tokio::io::duplex(64 << 10);
        let memory = Arc::new(Memory::new(1 << 20));
        let (out, _closed) = Outbox::spawn(server, 1 << 20, memory.clone(), None, BrokerMetrics::new());
        for i in 0..10u8 {
            assert_eq!(out.push(vec![i; 100 + usize::from(i)].into()), Pushed::Queued);
        }
        let limits = frame::FrameLimits { max_message: 4096, max_nodes: 4 };
        for i in 0..10u8 {
            let got = frame::read_raw(&mut client, &limits).await.unwrap();
            assert_eq!(got, vec![i; 100 + usize::from(i)]);
        }
    }
}
