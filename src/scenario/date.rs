//! `YYYY-MM` dates. Everything in the model counts months from `start`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A calendar month, stored as months since year 0 (January = 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct YearMonth(i64);

impl YearMonth {
    /// Parses exactly `YYYY-MM` (four-digit year, month 01..12).
    pub fn parse(s: &str) -> Option<YearMonth> {
        let b = s.as_bytes();
        if b.len() != 7 || b[4] != b'-' {
            return None;
        }
        if !b[..4].iter().chain(&b[5..]).all(u8::is_ascii_digit) {
            return None;
        }
        let year: i64 = s[..4].parse().ok()?;
        let month: i64 = s[5..].parse().ok()?;
        if !(1..=12).contains(&month) {
            return None;
        }
        Some(YearMonth(year * 12 + month - 1))
    }

    pub fn year(self) -> i64 {
        self.0.div_euclid(12)
    }

    /// 1..=12
    pub fn month(self) -> i64 {
        self.0.rem_euclid(12) + 1
    }

    pub fn add_months(self, n: i64) -> YearMonth {
        YearMonth(self.0 + n)
    }

    /// Months from `origin` to `self` (negative if before).
    pub fn months_since(self, origin: YearMonth) -> i64 {
        self.0 - origin.0
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

/// Written as `"YYYY-MM"`.
impl Serialize for YearMonth {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for YearMonth {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<YearMonth, D::Error> {
        let s = String::deserialize(d)?;
        YearMonth::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("found \"{s}\", expected YYYY-MM")))
    }
}

/// A value a sweep's axis or a sensitivity parameter gives a field: a
/// number, or a month for a date field (`start`, `online`, ...). Written
/// (in the `--set` override it makes, in CSV cells and in manifests) as
/// `{}` writes the number, or as `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    Number(f64),
    Month(YearMonth),
}

impl FieldValue {
    /// `s` as a value of a date field (`date`: `YYYY-MM`) or of a number
    /// field.
    pub fn parse(s: &str, date: bool) -> Option<FieldValue> {
        let s = s.trim();
        if date {
            YearMonth::parse(s).map(FieldValue::Month)
        } else {
            s.parse::<f64>().ok().map(FieldValue::Number)
        }
    }

    /// Whether it is a month or a finite number.
    pub fn is_finite(self) -> bool {
        match self {
            FieldValue::Number(x) => x.is_finite(),
            FieldValue::Month(_) => true,
        }
    }
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Shortest form that reads back; in exponent form where the
            // decimal one is long (8e299, not its 300 digits).
            FieldValue::Number(x) => f.write_str(&super::short_numbers(&x.to_string())),
            FieldValue::Month(m) => write!(f, "{m}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let d = YearMonth::parse("2026-01").unwrap();
        assert_eq!(d.to_string(), "2026-01");
        assert_eq!(d.add_months(14).to_string(), "2027-03");
        assert_eq!(d.add_months(-1).to_string(), "2025-12");
        assert_eq!(YearMonth::parse("2027-03").unwrap().months_since(d), 14);
    }

    #[test]
    fn field_values_print_short_and_read_back() {
        for (x, text) in [
            (0.24, "0.24"),
            (3.0, "3"),
            (8e299, "8e299"),
            (1e-20, "1e-20"),
            (-8e299, "-8e299"),
        ] {
            let shown = FieldValue::Number(x).to_string();
            assert_eq!(shown, text);
            assert_eq!(shown.parse::<f64>().unwrap(), x);
        }
    }

    #[test]
    fn rejects_malformed() {
        for s in [
            "2026-13",
            "2026-00",
            "2026-1",
            "26-01",
            "2026/01",
            "2026-01-01",
            "abcd-ef",
            "",
        ] {
            assert!(YearMonth::parse(s).is_none(), "{s}");
        }
    }
}
