//! A broker that lies on purpose (`crema cdn --misbehave`), for drills: it shows that nodes never trust the broker.
//!
//! - `corrupt`: flips a byte in the middle of every delivered or fetched message of at least [`CORRUPT_MIN`] bytes
//!   (payloads and shares; small consensus messages pass untouched, so the drill hits the bulk path);
//! - `drop`: drops a third of deliveries (a seeded rng, so a drill replays);
//! - `forge`: after each delivery, injects a copy claiming another sender, with one byte changed past the first 8
//!   (past the message kind and view, into what a signature covers): a claim no signature supports;
//! - `delay=MS`: holds every frame to a node MS milliseconds, in order, without holding other nodes' frames.
//!
//! Each act is counted in `crema_cdn_misbehaviour_total{kind}`.

use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::consensus::NodeId;

/// Messages shorter than this are never corrupted.
pub const CORRUPT_MIN: usize = 1024;
/// The seed of the misbehaving broker's rng.
const SEED: u64 = 0xC0C0A;

/// One way to misbehave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misbehave {
    /// Flip a byte in big messages.
    Corrupt,
    /// Drop a third of deliveries.
    Drop,
    /// Inject forged copies of deliveries.
    Forge,
    /// Delay every frame by this much.
    Delay(Duration),
}

impl FromStr for Misbehave {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "corrupt" => Ok(Misbehave::Corrupt),
            "drop" => Ok(Misbehave::Drop),
            "forge" => Ok(Misbehave::Forge),
            _ => match s.strip_prefix("delay=") {
                Some(ms) => ms
                    .parse::<u64>()
                    .map(|ms| Misbehave::Delay(Duration::from_millis(ms)))
                    .map_err(|e| format!("delay=MS needs milliseconds: {e}")),
                None => Err(format!("unknown misbehaviour {s:?}: corrupt, drop, forge or delay=MS")),
            },
        }
    }
}

/// The misbehaviour a broker applies, with its rng.
#[derive(Debug)]
pub struct Liar {
    kind: Option<Misbehave>,
    rng: Mutex<ChaCha8Rng>,
}

impl Liar {
    /// A liar doing `kind` (`None`: an honest broker).
    pub fn new(kind: Option<Misbehave>) -> Self {
        Liar { kind, rng: Mutex::new(ChaCha8Rng::seed_from_u64(SEED)) }
    }

    /// The misbehaviour, if any.
    pub fn kind(&self) -> Option<Misbehave> {
        self.kind
    }

    /// How long to hold every frame (zero for an honest broker).
    pub fn delay(&self) -> Option<Duration> {
        match self.kind {
            Some(Misbehave::Delay(d)) => Some(d),
            _ => None,
        }
    }

    /// Under `corrupt`, flips a byte of a big message; whether it did.
    pub fn corrupt(&self, message: &mut [u8]) -> bool {
        if self.kind != Some(Misbehave::Corrupt) || message.len() < CORRUPT_MIN {
            return false;
        }
        let mid = message.len() / 2;
        message[mid] ^= 0xFF;
        true
    }

    /// Under `drop`, whether to drop this delivery.
    pub fn drops(&self) -> bool {
        self.kind == Some(Misbehave::Drop) && self.with_rng(|r| r.gen_ratio(1, 3))
    }

    /// Under `forge`, a forged copy of `(from, message)` for a network of `nodes` nodes: another sender, one byte
    /// changed past the first 8. `None` for an honest broker or a network of one node.
    pub fn forge(&self, from: NodeId, message: &[u8], nodes: usize) -> Option<(NodeId, Vec<u8>)> {
        if self.kind != Some(Misbehave::Forge) || nodes < 2 {
            return None;
        }
        let (step, at) = self.with_rng(|r| (r.gen_range(1..nodes), r.gen_range(0..message.len().max(9) - 8)));
        // Bounded by `nodes`, which came from a NodeId-sized table.
        let other = ((usize::from(from) + step) % nodes) as NodeId;
        let mut forged = message.to_vec();
        if let Some(b) = forged.get_mut(8 + at) {
            *b ^= 0x01;
        }
        Some((other, forged))
    }

    fn with_rng<T>(&self, f: impl FnOnce(&mut ChaCha8Rng) -> T) -> T {
        // A poisoned lock only means another task panicked mid-draw; the rng is still an rng.
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_and_refuses_the_rest() {
        assert_eq!("corrupt".parse(), Ok(Misbehave::Corrupt));
        assert_eq!("drop".parse(), Ok(Misbehave::Drop));
        assert_eq!("forge".parse(), Ok(Misbehave::Forge));
        assert_eq!("delay=300".parse(), Ok(Misbehave::Delay(Duration::from_millis(300))));
        assert!("delay=soon".parse::<Misbehave>().is_err());
        assert!("lie".parse::<Misbehave>().is_err());
    }

    #[test]
    fn corrupt_changes_big_messages_only() {
        let liar = Liar::new(Some(Misbehave::Corrupt));
        let mut small = vec![0u8; CORRUPT_MIN - 1];
        assert!(!liar.corrupt(&mut small));
        assert!(small.iter().all(|&b| b == 0));
        let mut big = vec![0u8; CORRUPT_MIN];
        assert!(liar.corrupt(&mut big));
        assert_eq!(big.iter().filter(|&&b| b != 0).count(), 1);
        assert!(!Liar::new(None).corrupt(&mut big.clone()));
    }

    #[test]
    fn drop_drops_about_a_third() {
        let liar = Liar::new(Some(Misbehave::Drop));
        let dropped = (0..3000).filter(|_| liar.drops()).count();
        assert!((800..1200).contains(&dropped), "{dropped}");
        assert!(!(0..100).any(|_| Liar::new(None).drops()));
    }

    #[test]
    fn a_forged_copy_names_another_sender_and_changes_one_byte_past_the_eighth() {
        let liar = Liar::new(Some(Misbehave::Forge));
        let message: Vec<u8> = (0..64).collect();
        for _ in 0..100 {
            let (from, forged) = liar.forge(2, &message, 4).unwrap();
            assert!(from != 2 && from < 4);
            let changed: Vec<usize> = (0..64).filter(|&i| forged[i] != message[i]).collect();
            assert_eq!(changed.len(), 1);
            assert!(changed[0] >= 8);
        }
        assert!(liar.forge(0, &message, 1).is_none());
        assert!(Liar::new(None).forge(0, &message, 4).is_none());
        // A message too short to change past byte 8 still gets another sender.
        assert_eq!(liar.forge(0, &[1, 2, 3], 2), Some((1, vec![1, 2, 3])));
    }
}
