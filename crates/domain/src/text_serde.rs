//! Deserializing a value written as a JSON string without copying the string first:
//! the text is parsed where the deserializer holds it (borrowed from the input, or
//! from its scratch buffer when it had escapes). A journal of a label group holds
//! millions of SKUs, party ids and currency codes; each was copied into a `String`
//! only to be parsed and dropped.

use serde::de::{Deserializer, Error, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// Deserialize a string and parse it with `parse`, naming `expected` on a non-string.
pub(crate) fn parse_str<'de, D, T, E>(
    d: D,
    expected: &'static str,
    parse: fn(&str) -> Result<T, E>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    E: fmt::Display,
{
    struct Text<T, E> {
        expected: &'static str,
        parse: fn(&str) -> Result<T, E>,
        out: PhantomData<T>,
    }
    impl<'de, T, E: fmt::Display> Visitor<'de> for Text<T, E> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.expected)
        }
        fn visit_str<Er: Error>(self, v: &str) -> Result<T, Er> {
            (self.parse)(v).map_err(Er::custom)
        }
    }
    d.deserialize_str(Text {
        expected,
        parse,
        out: PhantomData,
    })
}
