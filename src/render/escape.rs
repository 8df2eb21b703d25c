//! Escaping of everything a template prints: the auto-escape mode by template name, the
//! formatter minijinja calls for every value, and the HTML and Markdown escapes
//! themselves. A value a clerk typed never becomes markup in a report.
//!
//! Only escapes: decides nothing about what a report contains.

use std::borrow::Cow;

use minijinja::value::Value;
use minijinja::{AutoEscape, Output, State};

/// The auto-escape mode of Markdown templates (see [`md_escape`]).
const MARKDOWN: AutoEscape = AutoEscape::Custom(Cow::Borrowed("markdown"));

/// `*.html.j2` escapes HTML (also for SVG inside it), `*.md.j2` escapes Markdown.
pub(super) fn auto_escape(name: &str) -> AutoEscape {
    if name.contains(".html") || name.contains(".htm") || name.contains(".svg") {
        AutoEscape::Html
    } else if name.contains(".md") {
        MARKDOWN
    } else {
        AutoEscape::None
    }
}

/// Prints a value: none as nothing; HTML escaped (`& < > " '`, leaving `/` readable in
/// links), Markdown escaped by [`md_escape`]. Values marked safe (macro output) as they are.
pub(super) fn formatter(
    out: &mut Output,
    state: &mut State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    let Some(text) = printed(value) else {
        return Ok(());
    };
    if value.is_safe() {
        out.write_str(&text)?;
    } else if state.auto_escape() == &AutoEscape::Html {
        html_escape_into(out, &text)?;
    } else if state.auto_escape() == &MARKDOWN {
        out.write_str(&md_escape(&text))?;
    } else {
        out.write_str(&text)?;
    }
    Ok(())
}

/// What a template prints for a value before escaping: nothing for none or undefined,
/// else its text (most values are strings already: no copy for those). Shared by every
/// formatter, HTML, Markdown and Word's XML.
pub(crate) fn printed(value: &Value) -> Option<Cow<'_, str>> {
    if value.is_undefined() || value.is_none() {
        return None;
    }
    Some(match value.as_str() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(value.to_string()),
    })
}

/// Writes `text` HTML-escaped, in runs between the characters that need escaping.
fn html_escape_into(out: &mut impl std::fmt::Write, text: &str) -> std::fmt::Result {
    let mut rest = text;
    while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
        out.write_str(&rest[..at])?;
        out.write_str(match rest.as_bytes()[at] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&#39;",
        })?;
        rest = &rest[at + 1..];
    }
    out.write_str(rest)
}

/// Escapes text for Markdown so that nothing a clerk typed becomes markup: inline markers
/// and HTML (`<`, `>`), table pipes, and block markers at the start (`#`, `- `, `1. `).
/// Line breaks become spaces (paragraphs are split before escaping).
pub fn md_escape(text: &str) -> String {
    let text = text.replace("\r\n", " ").replace(['\r', '\n'], " ");
    let text = text.trim_start_matches([' ', '\t']);
    let mut out = String::with_capacity(text.len() + 8);
    let chars: Vec<char> = text.chars().collect();
    // An ordered-list marker: digits then `.` or `)` then a space.
    let digits = chars.iter().take_while(|c| c.is_ascii_digit()).count();
    let list_number = digits > 0
        && matches!(chars.get(digits), Some('.' | ')'))
        && matches!(chars.get(digits + 1), None | Some(' ' | '\t'));
    for (i, &c) in chars.iter().enumerate() {
        let at_start = i == 0;
        let escape = match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' => true,
            '#' | '=' if at_start => true,
            '-' | '+' if at_start => matches!(chars.get(1), None | Some(' ' | '\t' | '-')),
            '.' | ')' if list_number && i == digits => true,
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
