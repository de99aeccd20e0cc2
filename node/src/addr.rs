//! Network addresses in the operator's files: the TCP multiaddrs libp2p dials and listens on, `host:port`
//! strings, and building both from a host and a port (`crema init`, `crema keygen`).

use std::net::{IpAddr, SocketAddr};

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};

/// Parses a multiaddr peers can dial: `/ip4|ip6|dns|dns4|dns6/HOST/tcp/PORT`, optionally ending in `/p2p/PEER`,
/// which must then be `peer` (the transport is TCP only, and a mismatched `/p2p/` could never connect).
pub fn dialable(text: &str, peer: Option<&PeerId>) -> Result<Multiaddr, String> {
    let addr = parse(text)?;
    let mut parts = addr.iter();
    match parts.next() {
        Some(Protocol::Ip4(_) | Protocol::Ip6(_) | Protocol::Dns(_) | Protocol::Dns4(_) | Protocol::Dns6(_)) => {}
        _ => return Err(format!("{text:?} must start with /ip4, /ip6, /dns, /dns4 or /dns6")),
    }
    tcp_port(text, parts.next())?;
    match (parts.next(), peer) {
        (None, _) => Ok(addr),
        (Some(Protocol::P2p(id)), Some(p)) if id == *p => match parts.next() {
            None => Ok(addr),
            Some(_) => Err(format!("{text:?}: nothing may follow /p2p/")),
        },
        (Some(Protocol::P2p(id)), Some(p)) => Err(format!("{text:?} names peer {id}, not this entry's {p}")),
        _ => Err(format!("{text:?}: only /p2p/<peer_id> may follow the TCP port")),
    }
}

/// Parses a multiaddr to listen on: `/ip4|ip6/ADDRESS/tcp/PORT` and nothing after it.
pub fn listenable(text: &str) -> Result<Multiaddr, String> {
    let addr = parse(text)?;
    let mut parts = addr.iter();
    match parts.next() {
        Some(Protocol::Ip4(_) | Protocol::Ip6(_)) => {}
        _ => return Err(format!("{text:?} must start with /ip4 or /ip6 (a listen address is local)")),
    }
    tcp_port(text, parts.next())?;
    match parts.next() {
        None => Ok(addr),
        Some(_) => Err(format!("{text:?}: nothing may follow the TCP port")),
    }
}

/// Checks a `host:port` string (`127.0.0.1:8000`, `[::1]:8000`, `node-3.example:8000`).
pub fn host_port(text: &str) -> Result<(), String> {
    if text.parse::<SocketAddr>().is_ok() {
        return Ok(());
    }
    let bad = || format!("invalid address {text:?}: expected host:port");
    let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
    let host_ok = !host.is_empty()
        && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && !host.starts_with(['-', '.']);
    if !host_ok || port.parse::<u16>().is_err() {
        return Err(bad());
    }
    Ok(())
}

/// The TCP multiaddr of `host` (an IP address or a DNS name) and `port`.
pub fn tcp_multiaddr(host: &str, port: u16) -> Result<Multiaddr, String> {
    let text = match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => format!("/ip4/{ip}/tcp/{port}"),
        Ok(IpAddr::V6(ip)) => format!("/ip6/{ip}/tcp/{port}"),
        Err(_) => format!("/dns/{host}/tcp/{port}"),
    };
    dialable(&text, None)
}

/// `host:port`, with an IPv6 address in brackets.
pub fn join_host_port(host: &str, port: u16) -> String {
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(ip)) => format!("[{ip}]:{port}"),
        _ => format!("{host}:{port}"),
    }
}

fn parse(text: &str) -> Result<Multiaddr, String> {
    text.parse::<Multiaddr>().map_err(|e| format!("invalid multiaddr {text:?}: {e}"))
}

fn tcp_port(text: &str, part: Option<Protocol<'_>>) -> Result<u16, String> {
    match part {
        Some(Protocol::Tcp(port)) if port != 0 => Ok(port),
        Some(Protocol::Tcp(_)) => Err(format!("{text:?}: TCP port 0 is not an address peers can use")),
        _ => Err(format!("{text:?} must name a TCP port next (…/tcp/PORT)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialable_addresses() {
        let peer = libp2p::identity::Keypair::generate_ed25519().public().to_peer_id();
        let other = libp2p::identity::Keypair::generate_ed25519().public().to_peer_id();
        assert!(dialable("/ip4/127.0.0.1/tcp/9000", None).is_ok());
        assert!(dialable("/dns/node-1.example/tcp/9000", None).is_ok());
        assert!(dialable(&format!("/ip6/::1/tcp/9/p2p/{peer}"), Some(&peer)).is_ok());
        for (bad, why) in [
            ("127.0.0.1:9000".to_string(), "invalid multiaddr"),
            ("/ip4/127.0.0.1/udp/9000".to_string(), "TCP port"),
            ("/ip4/127.0.0.1".to_string(), "TCP port"),
            ("/ip4/127.0.0.1/tcp/0".to_string(), "port 0"),
            ("/tcp/9000".to_string(), "must start with"),
            (format!("/ip4/1.2.3.4/tcp/9/p2p/{other}"), "not this entry's"),
        ] {
            let e = dialable(&bad, Some(&peer)).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn listen_addresses_and_host_ports() {
        assert!(listenable("/ip4/0.0.0.0/tcp/9000").is_ok());
        assert!(listenable("/dns/x/tcp/9000").unwrap_err().contains("local"));
        for ok in ["127.0.0.1:8000", "[::1]:80", "node-3.example:8000"] {
            assert!(host_port(ok).is_ok(), "{ok}");
        }
        for bad in ["x", ":80", "host:", "host:70000", "a b:80", "::1:80"] {
            assert!(host_port(bad).is_err(), "{bad}");
        }
        assert_eq!(tcp_multiaddr("::1", 9).unwrap().to_string(), "/ip6/::1/tcp/9");
        assert_eq!(tcp_multiaddr("example.org", 9).unwrap().to_string(), "/dns/example.org/tcp/9");
        assert_eq!(join_host_port("::1", 8), "[::1]:8");
        assert_eq!(join_host_port("10.0.0.1", 8), "10.0.0.1:8");
    }
}
