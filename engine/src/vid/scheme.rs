//! The one place that knows the VID schemes: their names, wire tags, default and allowed
//! thresholds. The CLI, `crema bench` and the node pick a scheme by [`SchemeKind`] and call it
//! through [`super::Vid`] (plain or namespaced, on bytes).

use std::fmt;
use std::str::FromStr;

use super::VidError;
use crate::codec::WireError;
use crate::stake::Fraction;

/// A VID scheme by name: the byte namespaced objects carry, and what `crema vid` detects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SchemeKind {
    /// [`super::Avidm`]: GF(2^16) Reed–Solomon + BLAKE3 Merkle (Espresso's AvidM). The default.
    #[default]
    Avidm = 1,
    /// [`super::Kzg`]: EIP-7594 cells with KZG proofs; every share provably consistent.
    Kzg = 2,
}

impl SchemeKind {
    /// Every scheme, in the order help texts list them.
    pub const ALL: [SchemeKind; 2] = [Self::Avidm, Self::Kzg];

    /// The scheme's name on the command line and in configs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Avidm => "avidm",
            Self::Kzg => "kzg",
        }
    }

    /// The scheme's byte on the wire.
    pub fn tag(self) -> u8 {
        self as u8
    }

    /// The scheme from its byte.
    pub fn from_u8(b: u8) -> Result<Self, WireError> {
        Self::ALL.into_iter().find(|k| k.tag() == b).ok_or_else(|| WireError::Invalid {
            what: "scheme tag",
            reason: format!("{b} names no scheme (1 avidm, 2 kzg)"),
        })
    }

    /// The recovery threshold used when none is given: 1/3 for avidm (any honest third of the
    /// stake rebuilds the payload), 1/2 for kzg (the rate of its 2x extension).
    pub fn default_threshold(self) -> Fraction {
        match self {
            Self::Avidm => Fraction::ONE_THIRD,
            Self::Kzg => Fraction::ONE_HALF,
        }
    }

    /// The least threshold the scheme can promise recovery from (any fraction for avidm; kzg's
    /// code has rate 1/2, so recovery always needs half of the weight).
    pub fn min_threshold(self) -> Option<Fraction> {
        match self {
            Self::Avidm => None,
            Self::Kzg => Some(Fraction::ONE_HALF),
        }
    }

    /// Refuses a threshold below [`SchemeKind::min_threshold`].
    pub fn check_threshold(self, threshold: Fraction) -> Result<(), VidError> {
        match self.min_threshold() {
            Some(min) if !threshold.at_least(min) => Err(VidError::ThresholdUnsupported {
                scheme: self.name(),
                num: threshold.num(),
                den: threshold.den(),
                min_num: min.num(),
                min_den: min.den(),
            }),
            _ => Ok(()),
        }
    }

    /// One line for help texts.
    pub fn summary(self) -> &'static str {
        match self {
            Self::Avidm => "GF(2^16) Reed-Solomon + BLAKE3 Merkle (default threshold 1/3)",
            Self::Kzg => "EIP-7594 cells with KZG proofs (threshold 1/2, fixed by the code rate)",
        }
    }
}

impl FromStr for SchemeKind {
    type Err = VidError;

    fn from_str(s: &str) -> Result<Self, VidError> {
        let want = s.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|k| k.name() == want).ok_or_else(|| VidError::UnknownScheme { name: s.to_string() })
    }
}

impl fmt::Display for SchemeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_tags_and_thresholds_round_trip() {
        for k in SchemeKind::ALL {
            assert_eq!(k.name().parse::<SchemeKind>().unwrap(), k);
            assert_eq!(SchemeKind::from_u8(k.tag()).unwrap(), k);
            k.check_threshold(k.default_threshold()).unwrap();
        }
        assert!(SchemeKind::from_u8(0).is_err());
        assert!("advz".parse::<SchemeKind>().is_err());
        assert!(SchemeKind::Kzg.check_threshold(Fraction::ONE_THIRD).is_err());
        assert!(SchemeKind::Avidm.check_threshold(Fraction::new(1, 100).unwrap()).is_ok());
    }
}
