//! The libp2p behaviour: the allowlist (first, so a refused connection never reaches the others), identify,
//! gossipsub for small broadcasts and request-response for everything else, with their limits.

use std::sync::Arc;
use std::time::Duration;

use libp2p::gossipsub::{self, IdentTopic, MessageAuthenticity, MessageId, ValidationMode};
use libp2p::identity::Keypair;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::{PeerId, allow_block_list, identify};

use super::codec::{FrameCodec, PROTOCOL};
use super::stats::Counters;

/// The identify protocol version: peers announcing another one are disconnected.
pub const IDENTIFY_VERSION: &str = "/crema/1";
/// The gossip topic every node subscribes to.
pub const TOPIC: &str = "crema/consensus/1";
/// Gossipsub's transmit limit (the whole RPC: message, signature, key, topic).
pub const GOSSIP_MAX_TRANSMIT: usize = 1 << 20;
/// The largest message published by gossip; room is left for the envelope, anything larger is pushed.
pub const GOSSIP_MAX_MESSAGE: usize = GOSSIP_MAX_TRANSMIT - 4096;

/// Every protocol a Crema node speaks.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Refuses connections from PeerIds not in the stake table.
    pub allow: allow_block_list::Behaviour<allow_block_list::AllowedPeers>,
    /// Exchanges protocol versions (and listen addresses, which are logged, never dialled).
    pub identify: identify::Behaviour,
    /// Small broadcasts.
    pub gossipsub: gossipsub::Behaviour,
    /// Point-to-point pushes and bulk broadcasts.
    pub push: request_response::Behaviour<FrameCodec>,
}

/// What [`Behaviour::new`] needs besides the key.
pub struct Limits {
    /// Largest message pushed.
    pub max_message_bytes: usize,
    /// Request-response timeout (covers reading a frame and acknowledging it).
    pub request_timeout: Duration,
    /// Concurrent request-response streams per connection.
    pub max_streams: usize,
}

/// The message id of a gossip message: the BLAKE3 hash of its bytes (so a message is carried once, whoever
/// publishes or forwards it).
pub fn message_id(message: &gossipsub::Message) -> MessageId {
    MessageId::from(blake3::hash(&message.data).as_bytes().to_vec())
}

impl Behaviour {
    /// The behaviour of the node with `key`, allowing only `allowed` peers.
    pub fn new(
        key: &Keypair,
        allowed: impl IntoIterator<Item = PeerId>,
        limits: &Limits,
        stats: Arc<Counters>,
    ) -> Result<Self, String> {
        let mut allow = allow_block_list::Behaviour::default();
        for peer in allowed {
            allow.allow_peer(peer);
        }
        let identify = identify::Behaviour::new(identify::Config::new(IDENTIFY_VERSION.to_string(), key.public()));
        let config = gossipsub::ConfigBuilder::default()
            .validation_mode(ValidationMode::Strict)
            .max_transmit_size(GOSSIP_MAX_TRANSMIT)
            .message_id_fn(message_id)
            .build()
            .map_err(|e| format!("gossipsub config: {e}"))?;
        let mut gossipsub = gossipsub::Behaviour::new(MessageAuthenticity::Signed(key.clone()), config)
            .map_err(|e| format!("gossipsub: {e}"))?;
        gossipsub.subscribe(&topic()).map_err(|e| format!("gossipsub subscribe: {e}"))?;
        let push = request_response::Behaviour::with_codec(
            FrameCodec::new(limits.max_message_bytes, stats),
            [(PROTOCOL, ProtocolSupport::Full)],
            request_response::Config::default()
                .with_request_timeout(limits.request_timeout)
                .with_max_concurrent_streams(limits.max_streams),
        );
        Ok(Behaviour { allow, identify, gossipsub, push })
    }
}

/// The gossip topic.
pub fn topic() -> IdentTopic {
    IdentTopic::new(TOPIC)
}
