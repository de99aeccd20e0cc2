//! What the fuzz targets share: the decoders' contract, checked on every input.

use std::fmt::Debug;

use crema_engine::vid::Codec;

/// Decodes `data` as a `T`; whatever decodes must be canonical: encoding it again gives back
/// exactly `data` (no second encoding of the same value, no ignored bytes). A decoder error is
/// fine; a panic, or a non-canonical success, is a finding.
pub fn canonical<T: Codec + Debug>(data: &[u8]) -> Option<T> {
    let value = T::decode(data).ok()?;
    assert_round_trip(&value, &value.encode(), data);
    Some(value)
}

/// Checks that `value`, decoded from `data`, encodes back to exactly `data` (`encoded`): for the
/// node's decoders, which are free functions rather than [`Codec`] impls.
pub fn assert_round_trip<T: Debug>(value: &T, encoded: &[u8], data: &[u8]) {
    assert_eq!(encoded, data, "{} decoded from non-canonical bytes: {value:?}", std::any::type_name::<T>());
}
