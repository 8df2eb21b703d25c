//! Text into WordprocessingML: everything a template prints is escaped for XML, and the
//! characters XML 1.0 forbids (most C0 controls, U+FFFE, U+FFFF) are dropped, so that
//! nothing a clerk typed — `<`, `&`, `]]>`, a stray control character pasted from another
//! program — can break the document or make Word offer to “repair” it.
//!
//! Only escapes: decides nothing about what a document contains.

use std::borrow::Cow;

use minijinja::value::Value;
use minijinja::{AutoEscape, Output, State};

/// The auto-escape mode of every Word template (they all write XML).
pub(super) const XML: AutoEscape = AutoEscape::Custom(Cow::Borrowed("xml"));

/// Prints a value: none as nothing, values marked safe (macro output) as they are,
/// everything else through [`escape_into`].
pub(super) fn formatter(
    out: &mut Output,
    state: &mut State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    let Some(text) = crate::render::printed(value) else {
        return Ok(());
    };
    if value.is_safe() || state.auto_escape() != &XML {
        out.write_str(&text)?;
    } else {
        escape_into(out, &text)?;
    }
    Ok(())
}

/// Whether XML 1.0 allows `c` in a document: tab, line feed, carriage return, and
/// everything from U+0020 except U+FFFE and U+FFFF (Rust strings hold no surrogates).
pub(super) fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// Writes `text` escaped for XML text and attribute values (`& < > " '`), without the
/// characters XML 1.0 forbids. Copies runs between the characters that need care.
pub(super) fn escape_into(out: &mut impl std::fmt::Write, text: &str) -> std::fmt::Result {
    let special = |c: char| matches!(c, '&' | '<' | '>' | '"' | '\'') || !allowed(c);
    let mut rest = text;
    while let Some(at) = rest.find(special) {
        out.write_str(&rest[..at])?;
        let c = rest[at..].chars().next().unwrap_or(' ');
        match c {
            '&' => out.write_str("&amp;")?,
            '<' => out.write_str("&lt;")?,
            '>' => out.write_str("&gt;")?,
            '"' => out.write_str("&quot;")?,
            '\'' => out.write_str("&apos;")?,
            _ => {} // forbidden in XML 1.0: dropped
        }
        rest = &rest[at + c.len_utf8()..];
    }
    out.write_str(rest)
}

/// `text` escaped for XML (see [`escape_into`]).
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    // Writing to a String cannot fail.
    let _ = escape_into(&mut out, text);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped_and_forbidden_characters_dropped() {
        assert_eq!(escape("a<b>&c]]>\"'"), "a&lt;b&gt;&amp;c]]&gt;&quot;&apos;");
        assert_eq!(
            escape("甲\u{0}乙\u{1}\u{b}\u{c}丙\u{1f}\u{FFFF}\u{FFFE}丁"),
            "甲乙丙丁"
        );
        assert_eq!(escape("tab\there\nline"), "tab\there\nline");
        assert_eq!(escape("😀 \u{7f} \u{FFFD}"), "😀 \u{7f} \u{FFFD}");
        assert_eq!(escape(""), "");
    }
}
