//! The raw file model: exactly what a scenario file may contain, read with serde-saphyr.
//! Every struct denies unknown fields so a typo is reported at its line; every value that a
//! later check may reject is [`Spanned`] so that check can name the line too. Nothing here
//! is seen outside the `scenario` module: `load` turns it into the checked model.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use serde_saphyr::Spanned;

/// A whole scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub about: Spanned<String>,
    #[serde(default)]
    pub heap: Option<Spanned<RawHeap>>,
    pub tree: Spanned<Pairs<Spanned<String>, Spanned<String>>>,
    pub steps: Spanned<Vec<Spanned<RawStep>>>,
    #[serde(default)]
    pub expect: Option<Pairs<Spanned<String>, Spanned<RawClaims>>>,
    #[serde(default)]
    pub strict_order: Option<bool>,
    #[serde(default)]
    pub divergences: Option<Vec<Spanned<RawDivergence>>>,
    #[serde(default)]
    pub cpython_expect: Option<bool>,
    #[serde(default)]
    pub timeout: Option<Spanned<u64>>,
}

/// One item of `steps`. Both forms share one struct (rather than an untagged enum) so that
/// an unknown key is named as such and "neither or both of run/observe" gets its own
/// message with the step's line.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    #[serde(default)]
    pub run: Option<Spanned<String>>,
    #[serde(default)]
    pub raises: Option<Spanned<String>>,
    #[serde(default)]
    pub observe: Option<Spanned<String>>,
    #[serde(default)]
    pub eval: Option<Spanned<Vec<Spanned<String>>>>,
}

/// The claims under one label of `expect`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawClaims {
    #[serde(default)]
    pub modules: Option<Spanned<RawMembership>>,
    #[serde(default)]
    pub names: Option<Spanned<RawMembership>>,
    #[serde(default)]
    pub eval: Option<Pairs<Spanned<String>, Spanned<String>>>,
    #[serde(default)]
    pub reclaims: Option<Spanned<RawReclaims>>,
}

/// `has` / `lacks`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMembership {
    #[serde(default)]
    pub has: Vec<String>,
    #[serde(default)]
    pub lacks: Vec<String>,
}

/// `reclaims: {load: [a, b], is: none|partial|most}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReclaims {
    pub load: Spanned<Vec<Spanned<String>>>,
    pub is: RawShare,
}

/// The share words.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawShare {
    None,
    Partial,
    Most,
}

/// One item of `divergences` (extension).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDivergence {
    pub target: Spanned<String>,
    pub field: RawField,
    #[serde(default)]
    pub at: Option<Spanned<String>>,
    pub reason: Spanned<String>,
}

/// The fields a divergence may name.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RawField {
    Modules,
    Names,
    NamesOrder,
    Eval,
    Errors,
    Memory,
}

/// `heap:` is either a plain byte count or a string such as `36K`; both are kept as text
/// and parsed by `parse_heap`, so that one function owns the rules.
#[derive(Debug)]
pub(crate) struct RawHeap(pub String);

impl<'de> Deserialize<'de> for RawHeap {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HeapVisitor;
        impl Visitor<'_> for HeapVisitor {
            type Value = RawHeap;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a heap size such as 36K, 64K, 2M or a byte count")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawHeap, E> {
                Ok(RawHeap(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawHeap, E> {
                Ok(RawHeap(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawHeap, E> {
                Ok(RawHeap(v.to_string()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawHeap, E> {
                Ok(RawHeap(v.to_string()))
            }
        }
        deserializer.deserialize_any(HeapVisitor)
    }
}

/// A YAML mapping read as a list of pairs in file order, so that spans of keys survive
/// (a map type would need `Spanned` keys to be hashable) and checks see every entry.
#[derive(Debug)]
pub(crate) struct Pairs<K, V>(pub Vec<(K, V)>);

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for Pairs<K, V> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairsVisitor<K, V>(PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for PairsVisitor<K, V> {
            type Value = Pairs<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(pair) = map.next_entry::<K, V>()? {
                    out.push(pair);
                }
                Ok(Pairs(out))
            }
            // `tree:` with nothing after it reads as null; treat it as `{}`.
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Pairs(Vec::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Pairs(Vec::new()))
            }
        }
        deserializer.deserialize_any(PairsVisitor(PhantomData))
    }
}
