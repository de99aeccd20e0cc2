//! The signer bitmap of a certificate: which stake-table entries signed.

use super::error::BlsError;

/// One bit per stake-table entry. Canonical bytes: the entry count as a 4-byte big-endian
/// integer, then `ceil(len / 8)` bytes with entry `i` at bit `i % 8` (least significant first)
/// of byte `i / 8`; the unused high bits of the last byte must be zero.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SignerBitmap {
    len: usize,
    bits: Vec<u8>,
}

impl SignerBitmap {
    /// An all-clear bitmap over `len` entries.
    pub fn new(len: usize) -> Self {
        Self { len, bits: vec![0; len.div_ceil(8)] }
    }

    /// Number of entries covered (signers or not).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the bitmap covers no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Marks entry `i` as a signer.
    pub fn set(&mut self, i: usize) -> Result<(), BlsError> {
        if i >= self.len {
            return Err(BlsError::SignerOutOfRange { index: i, len: self.len });
        }
        self.bits[i / 8] |= 1 << (i % 8);
        Ok(())
    }

    /// Whether entry `i` signed (false outside the range).
    pub fn get(&self, i: usize) -> bool {
        i < self.len && self.bits[i / 8] & (1 << (i % 8)) != 0
    }

    /// Number of signers.
    pub fn count(&self) -> usize {
        self.bits.iter().map(|b| b.count_ones() as usize).sum()
    }

    /// Indices of the signers, increasing.
    pub fn signers(&self) -> impl Iterator<Item = usize> + '_ {
        self.bits.iter().enumerate().flat_map(|(byte_index, &byte)| {
            (0..8).filter(move |bit| byte & (1 << bit) != 0).map(move |bit| byte_index * 8 + bit)
        })
    }

    /// The canonical encoding (see the type's documentation).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + self.bits.len());
        // Lengths above u32::MAX cannot be built from bytes either; saturate rather than wrap.
        out.extend_from_slice(&u32::try_from(self.len).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(&self.bits);
        out
    }

    /// Decodes the canonical encoding; rejects short input, a body of the wrong length and
    /// set padding bits (so every bitmap has exactly one encoding).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        let (head, body) = bytes.split_first_chunk::<4>().ok_or_else(|| BlsError::BadBitmap {
            reason: format!("{} bytes is shorter than the 4-byte header", bytes.len()),
        })?;
        let len = u32::from_be_bytes(*head) as usize;
        let want = len.div_ceil(8);
        if body.len() != want {
            return Err(BlsError::BadBitmap {
                reason: format!("header says {len} entries ({want} bytes) but the body has {} bytes", body.len()),
            });
        }
        if !len.is_multiple_of(8) {
            let last = body[want - 1];
            if last >> (len % 8) != 0 {
                return Err(BlsError::BadBitmap { reason: format!("padding bits beyond entry {len} are set") });
            }
        }
        Ok(Self { len, bits: body.to_vec() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_canonical_padding() {
        let mut b = SignerBitmap::new(11);
        for i in [0, 3, 10] {
            b.set(i).unwrap();
        }
        assert_eq!(b.count(), 3);
        assert_eq!(b.signers().collect::<Vec<_>>(), vec![0, 3, 10]);
        let bytes = b.to_bytes();
        assert_eq!(bytes, vec![0, 0, 0, 11, 0b0000_1001, 0b0000_0100]);
        assert_eq!(SignerBitmap::from_bytes(&bytes).unwrap(), b);
        let mut padded = bytes.clone();
        padded[5] |= 0x80;
        assert!(matches!(SignerBitmap::from_bytes(&padded), Err(BlsError::BadBitmap { .. })));
        assert!(matches!(SignerBitmap::from_bytes(&bytes[..5]), Err(BlsError::BadBitmap { .. })));
        assert!(matches!(SignerBitmap::from_bytes(&[0, 0]), Err(BlsError::BadBitmap { .. })));
        assert_eq!(b.set(11), Err(BlsError::SignerOutOfRange { index: 11, len: 11 }));
    }
}
