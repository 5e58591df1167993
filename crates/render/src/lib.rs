//! # memtide-render
//!
//! Turns memtide's traces into what a person reads: charts (SVG, PNG, HTML) and reports. It
//! reads traces through `memtide-model` and never touches the kernel: [`report`] writes a
//! report as text or Markdown; [`format_bytes`] is the number formatting every label shares.
//!
//! ```
//! use memtide_render::format_bytes;
//!
//! assert_eq!(format_bytes(3 * 1024 * 1024 * 1024 / 2), "1.50 GiB");
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod chart;
mod decimate;
pub mod html;
pub mod report;

/// Formats a byte count in binary units (KiB, MiB, GiB, TiB; powers of 1024), with three
/// significant digits from 1 KiB up: `512 B`, `1.00 KiB`, `12.3 MiB`, `256 MiB`, `1.50 GiB`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.digits$} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::format_bytes;

    #[test]
    fn binary_units_with_three_significant_digits() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(1023), "1023 B");
        assert_eq!(format_bytes(1024), "1.00 KiB");
        assert_eq!(format_bytes(12_900_000), "12.3 MiB");
        assert_eq!(format_bytes(256 << 20), "256 MiB");
        assert_eq!(format_bytes(17_179_869_184), "16.0 GiB");
        assert_eq!(format_bytes(u64::MAX), "16777216 TiB");
    }
}
