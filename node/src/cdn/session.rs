//! One connection to the broker: the login handshake, then the node's frames until it leaves, misbehaves or the
//! broker stops.
//!
//! The broker speaks first with a fresh nonce; the node has [`LOGIN_TIMEOUT`] to answer with a valid login (or a
//! broker with its hello). A node may send only `Publish`, `Direct` and `Fetch`: any other frame, an undecodable
//! one or one over the size limit closes the connection and is counted.

use std::sync::Arc;
use std::time::Duration;

use crema_engine::codec::WireError;
use rand::RngCore;
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;
use tokio::sync::watch;

use super::broker::{Broker, Origin};
use super::frame::{self, Frame, ReadError};
use super::login::{self, LoginError};
use super::metrics::BrokerMetrics;
use super::outbox::Outbox;
use crate::consensus::NodeId;

/// How long a connection has to log in.
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves one accepted connection until it ends or `stop` turns true.
pub async fn handle(broker: Arc<Broker>, mut stream: TcpStream, stop: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    let mut nonce = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let first = tokio::time::timeout(LOGIN_TIMEOUT, async {
        frame::write(&mut stream, &Frame::Challenge { nonce }).await?;
        frame::read(&mut stream, &broker.settings.limits).await
    })
    .await;
    let refuse = |reason: &str| BrokerMetrics::hit(&broker.metrics.logins, reason);
    match first {
        Err(_) => refuse("timeout"),
        Ok(Err(e)) => {
            count_read_error(&broker, &e);
            // The decoder bounds node ids by the table's size: a login from outside it fails there.
            let outside = matches!(e, ReadError::Wire(WireError::OverLimit { what: "node id", .. }));
            refuse(if outside { "unknown_node" } else { "bad_frame" });
            let _ = frame::write(&mut stream, &Frame::Refused { reason: e.to_string() }).await;
        }
        Ok(Ok(Frame::Login { node, timestamp_ms, signature })) => {
            match login::check_login(&broker.settings.keys, &nonce, node, timestamp_ms, &signature, login::unix_ms()) {
                Ok(()) => {
                    let welcome = Frame::Welcome { broker: broker.settings.id.clone() };
                    if frame::write(&mut stream, &welcome).await.is_ok() {
                        BrokerMetrics::hit(&broker.metrics.logins, "ok");
                        serve_node(broker, node, stream, stop).await;
                    }
                }
                Err(e) => {
                    refuse(match e {
                        LoginError::UnknownNode(_) => "unknown_node",
                        LoginError::Clock { .. } => "clock",
                        LoginError::BadSignature => "bad_signature",
                    });
                    tracing::info!(node, "login refused: {e}");
                    let _ = frame::write(&mut stream, &Frame::Refused { reason: e.to_string() }).await;
                }
            }
        }
        Ok(Ok(Frame::BrokerHello { broker: peer })) => match broker.links.clone() {
            Some(links) => links.accept(&broker, peer, stream, stop).await,
            None => {
                refuse("no_discovery");
                let reason = "this broker runs without discovery".to_string();
                let _ = frame::write(&mut stream, &Frame::Refused { reason }).await;
            }
        },
        Ok(Ok(_)) => {
            BrokerMetrics::hit(&broker.metrics.protocol_errors, "forbidden_frame");
            refuse("not_a_login");
        }
    }
}

/// Counts why a frame could not be read (a closed connection is no error).
pub fn count_read_error(broker: &Broker, e: &ReadError) {
    match e {
        ReadError::TooLarge { len, max } => {
            BrokerMetrics::hit(&broker.metrics.limits, "frame_size");
            tracing::warn!("frame of {len} bytes over the limit of {max}: connection closed");
        }
        ReadError::Wire(e) => {
            BrokerMetrics::hit(&broker.metrics.protocol_errors, "bad_frame");
            tracing::info!("undecodable frame: {e}");
        }
        ReadError::Io(_) => {}
    }
}

/// A logged-in node's connection: its frames in, deliveries out through its [`Outbox`].
async fn serve_node(broker: Arc<Broker>, node: NodeId, stream: TcpStream, mut stop: watch::Receiver<bool>) {
    let (mut rd, wr) = stream.into_split();
    let (outbox, mut closed) = Outbox::spawn(
        wr,
        broker.settings.queue_bytes,
        broker.settings.memory.clone(),
        broker.settings.liar.delay(),
        broker.metrics.clone(),
    );
    let conn = broker.register(node, outbox.clone());
    tracing::debug!(node, conn, "node logged in");
    tokio::select! {
        _ = read_loop(&broker, node, &mut rd, &outbox) => {}
        _ = super::fired(&mut closed) => {}
        _ = super::fired(&mut stop) => {}
    }
    outbox.close();
    broker.unregister(node, conn);
    tracing::debug!(node, conn, "node left");
}

async fn read_loop(broker: &Broker, node: NodeId, rd: &mut OwnedReadHalf, outbox: &Outbox) {
    loop {
        let body = match frame::read_raw(rd, &broker.settings.limits).await {
            Ok(b) => b,
            Err(e) => return count_read_error(broker, &e),
        };
        broker.metrics.frame("in", body.len() + 4);
        let f = match frame::decode(&body, &broker.settings.limits) {
            Ok(f) => f,
            Err(e) => return count_read_error(broker, &ReadError::Wire(e)),
        };
        drop(body);
        match f {
            Frame::Publish { topic, key, bytes } => broker.publish(node, topic, key, bytes, Origin::Node),
            Frame::Direct { to, key, bytes } => broker.direct(node, &to, key, bytes, Origin::Node).await,
            Frame::Fetch { id, key } => broker.send(outbox, broker.fetched(id, &key)),
            other => {
                BrokerMetrics::hit(&broker.metrics.protocol_errors, "forbidden_frame");
                tracing::info!(node, "node sent a frame only a broker may send ({}): closed", other.name());
                return;
            }
        }
    }
}
