//! Validated values: the only way raw input reaches the model.
//!
//! Each constructor rejects what a warehouse would never mean (an empty SKU, a quantity
//! of 0, a reference as long as a novel), so the model never has to check again.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// Longest identifier accepted: generous for SKUs, references and order ids, small
/// enough that a pasted paragraph is refused.
pub const MAX_IDENTIFIER_LEN: usize = 64;

/// Largest quantity of a line or batch: far above any real shipment, far below overflow.
pub const MAX_QUANTITY: u32 = 1_000_000_000;

/// What is wrong with a raw value, without naming the field: each entry point knows the
/// name its callers used (`qty` in JSON, "Quantity" on a form) and adds it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidValue {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {MAX_IDENTIFIER_LEN} characters")]
    TooLong,
    #[error("must not contain control characters")]
    ControlCharacter,
    #[error("must be a whole number above 0")]
    NotPositive,
    #[error("must be at most {MAX_QUANTITY}")]
    TooLarge,
    #[error("must be a date as YYYY-MM-DD")]
    NotADate,
}

impl InvalidValue {
    /// Names the field the value came from.
    pub fn in_field(self, field: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            problem: self,
        }
    }
}

/// An invalid value together with the field it was given in, e.g. "qty must be a whole
/// number above 0".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {problem}")]
pub struct FieldError {
    pub field: String,
    pub problem: InvalidValue,
}

fn check_identifier(raw: &str) -> Result<&str, InvalidValue> {
    let value = raw.trim();
    if value.is_empty() {
        Err(InvalidValue::Empty)
    } else if value.chars().count() > MAX_IDENTIFIER_LEN {
        Err(InvalidValue::TooLong)
    } else if value.chars().any(char::is_control) {
        Err(InvalidValue::ControlCharacter)
    } else {
        Ok(value)
    }
}

/// Declares a text identifier: trimmed, non-empty, bounded, printable. The text is
/// shared, not copied, by clones: a product's lines each hold its SKU, and the
/// service layer clones lines into events and read-model updates (profiled).
macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Arc<str>);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
                check_identifier(raw).map(|value| Self(Arc::from(value)))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidValue;

            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0.as_ref().to_owned()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

identifier!(
    /// A stock-keeping unit: the product a batch holds and an order line asks for.
    Sku
);
identifier!(
    /// A purchase batch's reference, unique across all products.
    BatchRef
);
identifier!(
    /// A customer order's id; an order has one line per SKU.
    OrderId
);

/// A number of units: at least 1, at most [`MAX_QUANTITY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u32")]
pub struct Quantity(u32);

impl Quantity {
    pub fn new(units: i64) -> Result<Self, InvalidValue> {
        if units < 1 {
            Err(InvalidValue::NotPositive)
        } else if units > i64::from(MAX_QUANTITY) {
            Err(InvalidValue::TooLarge)
        } else {
            Ok(Self(units as u32))
        }
    }

    /// Parses what a person typed, e.g. in a form field.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(InvalidValue::Empty);
        }
        match raw.parse::<i64>() {
            Ok(units) => Self::new(units),
            // Digits only but beyond i64: too large, not malformed.
            Err(_) if raw.bytes().all(|b| b.is_ascii_digit()) => Err(InvalidValue::TooLarge),
            Err(_) => Err(InvalidValue::NotPositive),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<i64> for Quantity {
    type Error = InvalidValue;

    fn try_from(units: i64) -> Result<Self, Self::Error> {
        Self::new(units)
    }
}

impl From<Quantity> for u32 {
    fn from(qty: Quantity) -> Self {
        qty.0
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Parses a date as `YYYY-MM-DD`; a full ISO date-time is accepted and cut to its date,
/// as the reference accepts `2011-01-02T10:00:00`.
pub fn parse_date(raw: &str) -> Result<NaiveDate, InvalidValue> {
    let raw = raw.trim();
    raw.parse::<NaiveDate>()
        .or_else(|_| raw.parse::<NaiveDateTime>().map(|t| t.date()))
        .or_else(|_| DateTime::parse_from_rfc3339(raw).map(|t| t.date_naive()))
        .map_err(|_| InvalidValue::NotADate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_trimmed() {
        assert_eq!(Sku::parse("  RED-CHAIR ").unwrap().as_str(), "RED-CHAIR");
    }

    #[test]
    fn identifiers_reject_blank_long_and_control_characters() {
        assert_eq!(Sku::parse("   "), Err(InvalidValue::Empty));
        assert_eq!(
            OrderId::parse(&"x".repeat(MAX_IDENTIFIER_LEN + 1)),
            Err(InvalidValue::TooLong)
        );
        assert!(OrderId::parse(&"x".repeat(MAX_IDENTIFIER_LEN)).is_ok());
        assert_eq!(
            BatchRef::parse("b\u{0}1"),
            Err(InvalidValue::ControlCharacter)
        );
    }

    #[test]
    fn quantity_must_be_positive_and_bounded() {
        assert_eq!(Quantity::new(0), Err(InvalidValue::NotPositive));
        assert_eq!(Quantity::new(-3), Err(InvalidValue::NotPositive));
        assert_eq!(Quantity::new(1).unwrap().get(), 1);
        assert_eq!(
            Quantity::new(i64::from(MAX_QUANTITY)).unwrap().get(),
            MAX_QUANTITY
        );
        assert_eq!(
            Quantity::new(i64::from(MAX_QUANTITY) + 1),
            Err(InvalidValue::TooLarge)
        );
    }

    #[test]
    fn quantity_parses_what_people_type() {
        assert_eq!(Quantity::parse(" 12 ").unwrap().get(), 12);
        assert_eq!(Quantity::parse(""), Err(InvalidValue::Empty));
        assert_eq!(Quantity::parse("1.5"), Err(InvalidValue::NotPositive));
        assert_eq!(Quantity::parse("ten"), Err(InvalidValue::NotPositive));
        assert_eq!(
            Quantity::parse("99999999999999999999999"),
            Err(InvalidValue::TooLarge)
        );
    }

    #[test]
    fn dates_are_iso_and_date_times_are_cut_to_the_date() {
        let day = NaiveDate::from_ymd_opt(2011, 1, 2).unwrap();
        assert_eq!(parse_date("2011-01-02"), Ok(day));
        assert_eq!(parse_date("2011-01-02T10:00:00"), Ok(day));
        assert_eq!(parse_date("2011-01-02T10:00:00.5"), Ok(day));
        assert_eq!(parse_date("2011-01-02T23:30:00+01:00"), Ok(day));
        assert_eq!(parse_date("02/01/2011"), Err(InvalidValue::NotADate));
        assert_eq!(parse_date("2011-02-30"), Err(InvalidValue::NotADate));
    }

    #[test]
    fn field_errors_name_the_field() {
        let error = InvalidValue::NotPositive.in_field("qty");
        assert_eq!(error.to_string(), "qty must be a whole number above 0");
    }

    #[test]
    fn deserializing_validates() {
        let sku: Result<Sku, _> = serde_json::from_str("\"\"");
        assert!(sku.is_err());
        let qty: Result<Quantity, _> = serde_json::from_str("0");
        assert!(qty.is_err());
    }
}
