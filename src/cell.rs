//! A1 cell addresses: the only place that converts between zero-based (row, column)
//! positions and the `C12` / `AB3` notation clerks see in their spreadsheet program.

use std::fmt;

/// A zero-based cell position. Displayed in A1 notation.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct CellRef {
    pub row: u32,
    pub col: u16,
}

impl CellRef {
    pub fn new(row: u32, col: u16) -> CellRef {
        CellRef { row, col }
    }

    /// Parses `A1`-style addresses (case-insensitive, `$` allowed). `None` if malformed or
    /// beyond the limits of an xlsx sheet (1,048,576 rows × 16,384 columns).
    pub fn parse(a1: &str) -> Option<CellRef> {
        let s = a1.trim().replace('$', "");
        let split = s.find(|c: char| c.is_ascii_digit())?;
        let (letters, digits) = s.split_at(split);
        if letters.is_empty() || letters.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut col: u32 = 0;
        for b in letters.bytes() {
            if !b.is_ascii_alphabetic() {
                return None;
            }
            col = col * 26 + u32::from(b.to_ascii_uppercase() - b'A' + 1);
        }
        let row: u32 = digits.parse().ok()?;
        if row == 0 || row > 1_048_576 || col > 16_384 {
            return None;
        }
        Some(CellRef::new(row - 1, (col - 1) as u16))
    }

    /// The column letters alone (`0` → `A`, `27` → `AB`).
    pub fn col_name(col: u16) -> String {
        let mut n = u32::from(col) + 1;
        let mut out = Vec::new();
        while n > 0 {
            let rem = ((n - 1) % 26) as u8;
            out.push(b'A' + rem);
            n = (n - 1) / 26;
        }
        out.reverse();
        String::from_utf8(out).unwrap_or_default()
    }
}

impl fmt::Display for CellRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", CellRef::col_name(self.col), self.row + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_addresses() {
        assert_eq!(CellRef::new(0, 0).to_string(), "A1");
        assert_eq!(CellRef::new(11, 2).to_string(), "C12");
        assert_eq!(CellRef::new(0, 25).to_string(), "Z1");
        assert_eq!(CellRef::new(0, 26).to_string(), "AA1");
        assert_eq!(CellRef::new(2, 27).to_string(), "AB3");
        assert_eq!(CellRef::new(1_048_575, 16_383).to_string(), "XFD1048576");
        assert_eq!(CellRef::parse("$c$12"), Some(CellRef::new(11, 2)));
        assert_eq!(CellRef::parse("A0"), None);
        assert_eq!(CellRef::parse("12"), None);
        assert_eq!(CellRef::parse("A1B"), None);
        assert_eq!(CellRef::parse("XFE1"), None);
    }

    proptest! {
        #[test]
        fn a1_round_trip(row in 0u32..1_048_576, col in 0u16..16_384) {
            let cell = CellRef::new(row, col);
            prop_assert_eq!(CellRef::parse(&cell.to_string()), Some(cell));
        }
    }
}
