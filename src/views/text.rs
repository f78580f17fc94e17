//! How the read side writes values as text: the same on pages and in CSV files.

/// An ETA as staff read it.
pub fn eta_text(eta: Option<&str>) -> String {
    eta.unwrap_or("in warehouse").to_owned()
}

/// An RFC 3339 instant as `YYYY-MM-DD HH:MM` (UTC).
pub fn instant_text(rfc3339: &str) -> String {
    rfc3339
        .get(..16)
        .map(|s| s.replacen('T', " ", 1))
        .unwrap_or_else(|| rfc3339.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_shown_to_the_minute() {
        assert_eq!(instant_text("2026-11-27T09:54:12.123Z"), "2026-11-27 09:54");
        assert_eq!(instant_text("garbage"), "garbage");
    }

    #[test]
    fn a_missing_eta_reads_in_warehouse() {
        assert_eq!(eta_text(None), "in warehouse");
        assert_eq!(eta_text(Some("2011-01-02")), "2011-01-02");
    }
}
