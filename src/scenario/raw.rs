//! The scenario file as written: serde types that mirror MODEL.md section 2
//! field for field. Everything is optional here; [`super::validate`] decides
//! what is required, checks ranges and resolves names. The same types, fully
//! filled in, are what `capsim check` prints and what the manifest records,
//! so a resolved scenario loads back unchanged.

use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::marker::PhantomData;

/// `T` from a table only. serde's derived structs also take an array, by
/// position: `delay_months = [3.0, 0.6]` loaded as median 3 and sigma 0.6
/// (and `[0.6, 3.0]` just as silently the other way round), and
/// `simulation = [1000, 7]` as 1,000 paths and seed 7.
fn table<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    struct Table<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for Table<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a table (its fields by name)")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
        }
    }
    d.deserialize_map(Table(PhantomData))
}

/// [`table`] for an optional field (`#[serde(default)]` gives `None` when
/// the field is absent).
fn some_table<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    table(d).map(Some)
}

/// An array of tables (`[[workload]]`), each element a [`table`].
fn tables<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    struct Element<T>(T);
    impl<'de, T: Deserialize<'de>> Deserialize<'de> for Element<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            table(d).map(Element)
        }
    }
    struct Tables<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for Tables<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an array of tables")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
            while let Some(Element(t)) = seq.next_element()? {
                out.push(t);
            }
            Ok(out)
        }
    }
    d.deserialize_seq(Tables(PhantomData))
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub periods: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount_rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shortfall_price: Option<f64>,
    #[serde(
        default,
        deserialize_with = "some_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub simulation: Option<RawSimulation>,
    #[serde(
        default,
        deserialize_with = "some_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub agi: Option<RawAgi>,
    #[serde(
        default,
        deserialize_with = "tables",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub workload: Vec<RawWorkload>,
    #[serde(
        default,
        deserialize_with = "tables",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub provider: Vec<RawProvider>,
    #[serde(
        default,
        deserialize_with = "tables",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub contract: Vec<RawContract>,
    #[serde(
        default,
        deserialize_with = "tables",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub rule: Vec<RawRule>,
    #[serde(
        default,
        deserialize_with = "tables",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub correlation: Vec<RawCorrelation>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawSimulation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paths: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sampling: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demand: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub growth: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volatility: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jump_rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jump_mean: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jump_stdev: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shortfall_price: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deferrable: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawProvider {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_drift: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_volatility: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capex_per_gpu: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub life_years: Option<f64>,
    #[serde(
        default,
        deserialize_with = "tables",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tranche: Vec<RawTranche>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawTranche {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpus: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub online: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<f64>,
    #[serde(
        default,
        deserialize_with = "some_table",
        skip_serializing_if = "Option::is_none"
    )]
    pub delay_months: Option<RawDelay>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawDelay {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sigma: Option<f64>,
}

/// Both contract kinds share one struct so that a field of the wrong kind
/// gets a precise message ("`amount` is not a field of a reserved contract")
/// instead of serde's generic untagged-enum failure.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawContract {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpus: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// All rule kinds in one struct; see [`RawContract`] for why.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workloads: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub providers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accept: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawAgi {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hazard: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earliest: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawCorrelation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub between: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rho: Option<f64>,
}
