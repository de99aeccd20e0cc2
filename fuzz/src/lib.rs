//! What the fuzz targets share: the decoders' contract, checked on every input.

use std::fmt::Debug;

use crema_engine::vid::Codec;

/// Decodes `data` as a `T`; whatever decodes must be canonical: encoding it again gives back
/// exactly `data` (no second encoding of the same value, no ignored bytes). A decoder error is
/// fine; a panic, or a non-canonical success, is a finding.
pub fn canonical<T: Codec + Debug>(data: &[u8]) -> Option<T> {
    let value = T::decode(data).ok()?;
    assert_eq!(value.encode(), data, "{} decoded from non-canonical bytes: {value:?}", std::any::type_name::<T>());
    Some(value)
}
