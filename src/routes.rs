//! The desk's URLs, built in one place so that links, redirects and `Location` headers
//! agree, with every identifier encoded to fit in a path segment.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but the unreserved characters.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn segment(raw: &str) -> impl std::fmt::Display + '_ {
    utf8_percent_encode(raw, PATH_SEGMENT)
}

/// The page of one batch.
pub fn batch(reference: &str) -> String {
    format!("/batches/{}", segment(reference))
}

/// The batch listing, filtered to one SKU.
pub fn batches_of(sku: &str) -> String {
    format!("/batches?sku={}", segment(sku))
}

/// The page of one order.
pub fn order(orderid: &str) -> String {
    format!("/orders/{}", segment(orderid))
}

/// The sign-in page, which goes on to `next`, a path on this site, once signed in.
pub fn login_then(next: &str) -> String {
    format!("/login?next={}", segment(next))
}

/// The JSON view of an order's allocations.
pub fn allocations_api(orderid: &str) -> String {
    format!("/allocations/{}", segment(orderid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_encoded_as_one_segment() {
        assert_eq!(batch("b 1/x"), "/batches/b%201%2Fx");
        assert_eq!(order("o-1_a.b~c"), "/orders/o-1_a.b~c");
        assert_eq!(batches_of("RED&CHAIR"), "/batches?sku=RED%26CHAIR");
        assert_eq!(allocations_api("ö"), "/allocations/%C3%B6");
        assert_eq!(
            login_then("/orders?a=1&b"),
            "/login?next=%2Forders%3Fa%3D1%26b"
        );
    }
}
