//! Starting to listen: refuse a port another process already listens on, then wait for the listener's first
//! address (the actual port when the configured one is 0).
//!
//! libp2p-tcp sets `SO_REUSEPORT` on its listening sockets, so on Linux a second node configured with the same
//! port would bind it too and silently share the incoming connections. A plain bind (without `SO_REUSEPORT`) of
//! the address first turns that misconfiguration into an error.

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::time::Duration;

use libp2p::futures::StreamExt;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, Swarm};

use super::behaviour::Behaviour;

/// How long to wait for the listener to report its address.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// The socket address of a `/ip4|ip6/…/tcp/PORT` multiaddr with a non-zero port.
fn fixed_tcp_port(addr: &Multiaddr) -> Option<SocketAddr> {
    let mut ip = None;
    for p in addr.iter() {
        match p {
            Protocol::Ip4(a) => ip = Some(IpAddr::V4(a)),
            Protocol::Ip6(a) => ip = Some(IpAddr::V6(a)),
            Protocol::Tcp(port) if port != 0 => return ip.map(|ip| SocketAddr::new(ip, port)),
            _ => {}
        }
    }
    None
}

/// Listens on `addr` and returns the first address the listener reports. Nothing has been dialled yet, so the
/// only swarm events before it are the listener's own.
pub async fn listen(swarm: &mut Swarm<Behaviour>, addr: &Multiaddr) -> Result<Multiaddr, String> {
    if let Some(socket) = fixed_tcp_port(addr) {
        TcpListener::bind(socket).map_err(|e| format!("port in use or not bindable: {e}"))?;
    }
    swarm.listen_on(addr.clone()).map_err(|e| e.to_string())?;
    let first = tokio::time::timeout(LISTEN_TIMEOUT, async {
        loop {
            match swarm.select_next_some().await {
                SwarmEvent::NewListenAddr { address, .. } => return Ok(address),
                SwarmEvent::ListenerClosed { reason, .. } => return Err(format!("listener closed: {reason:?}")),
                SwarmEvent::ListenerError { error, .. } => return Err(error.to_string()),
                _ => {}
            }
        }
    });
    first.await.map_err(|_| "no listen address reported".to_string())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fixed_tcp_ports_are_probed() {
        let p = |s: &str| fixed_tcp_port(&s.parse().unwrap());
        assert_eq!(p("/ip4/127.0.0.1/tcp/9000"), Some("127.0.0.1:9000".parse().unwrap()));
        assert_eq!(p("/ip6/::1/tcp/9000"), Some("[::1]:9000".parse().unwrap()));
        assert_eq!(p("/ip4/0.0.0.0/tcp/0"), None);
        assert_eq!(p("/dns4/localhost/tcp/9000"), None);
    }
}
