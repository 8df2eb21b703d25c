//! A web page saved from a portal (`.html`/`.htm`, "网页，全部" or "仅 HTML") → a
//! [`Document`]. Parsed with a real HTML parser (scraper, on html5ever), so pages as
//! browsers and content systems write them (unclosed cells and paragraphs, tables
//! inside layout tables) read as a browser shows them. Nothing is fetched: scripts,
//! styles, frames and images are ignored.
//!
//! The encoding is the byte-order mark's, else the `charset` the page declares in its
//! first bytes (`<meta charset="gbk">`, `content="text/html; charset=gb2312"`), else
//! UTF-8 when the bytes are valid UTF-8, else GBK, what Chinese portals used before.
//!
//! A table's `colspan`/`rowspan` are resolved to the grid as a workbook's merge is
//! ([`super::document`]). A table holding another table is a layout table: its text is
//! running text, and the tables inside it are read as tables.

use ego_tree::NodeRef;
use scraper::{Html, Node};

use super::document::{to_workbook, DocCell, Document};
use super::{FileKind, RawWorkbook, ReadError};

/// Deepest element nesting walked; text deeper down is still read, as plain text.
const MAX_DEPTH: usize = 200;

/// Deepest nesting of elements accepted before parsing: the parser checks the open
/// elements at each tag, so its work grows with the square of the depth (20,000 nested
/// `div`s take seconds). Real pages nest a few dozen deep.
const MAX_NESTING: usize = 1000;

/// Reads a saved web page.
pub(super) fn read_html(bytes: &[u8]) -> Result<RawWorkbook, ReadError> {
    let text = decode(bytes);
    let depth = nesting(&text);
    if depth > MAX_NESTING {
        return Err(ReadError::TooLarge {
            detail: format!(
                "网页的标签嵌套约 {depth} 层，超过 {MAX_NESTING} 层的上限；请在浏览器中打开后另存为网页（仅 HTML）或 Word 文档"
            ),
        });
    }
    let page = Html::parse_document(&text);
    let mut walker = Walker::default();
    let mut flow = Flow::default();
    walker.walk(*page.root_element(), &mut flow, 0);
    let doc = Document {
        paragraphs: flow.finish(),
        tables: walker.tables,
    };
    to_workbook(doc, FileKind::Html)
}

/// The page as text: see the module doc for how the encoding is chosen.
pub(super) fn decode(bytes: &[u8]) -> String {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        return encoding
            .decode_without_bom_handling(&bytes[bom..])
            .0
            .into_owned();
    }
    if let Some(encoding) = declared_charset(bytes) {
        return encoding.decode_without_bom_handling(bytes).0.into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GBK
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

/// The encoding a page declares with `charset=` in its first 4 KiB, if encoding_rs
/// knows the label. A page that says UTF-16 was read as ASCII to find it, so it is not.
fn declared_charset(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let head = &bytes[..bytes.len().min(4096)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let at = lower.windows(8).position(|w| w == b"charset=")? + 8;
    let rest = &lower[at..];
    let rest = rest
        .strip_prefix(b"\"")
        .or_else(|| rest.strip_prefix(b"'"))
        .unwrap_or(rest);
    let end = rest
        .iter()
        .position(|b| {
            matches!(
                b,
                b'"' | b'\'' | b';' | b'>' | b'/' | b' ' | b'\t' | b'\n' | b'\r'
            )
        })
        .unwrap_or(rest.len());
    let encoding = encoding_rs::Encoding::for_label(&rest[..end])?;
    (encoding != encoding_rs::UTF_16LE && encoding != encoding_rs::UTF_16BE).then_some(encoding)
}

/// How deep a page's elements nest, counted from its tags without parsing: each start
/// tag of an element that needs an end tag opens one level, each end tag closes one.
/// Elements whose end tag may be left out (`p`, `td`, `li`…) and empty ones (`br`,
/// `img`…) are not counted, so sloppy pages are not taken for deep ones.
fn nesting(text: &str) -> usize {
    const NOT_COUNTED: &[&str] = &[
        "p", "li", "td", "th", "tr", "dt", "dd", "option", "optgroup", "thead", "tbody", "tfoot",
        "colgroup", "rb", "rt", "rp", "html", "head", "body", "br", "img", "hr", "meta", "link",
        "input", "col", "area", "base", "embed", "source", "track", "wbr", "param",
    ];
    let (mut depth, mut deepest) = (0usize, 0usize);
    for tag in text.split('<').skip(1) {
        let (closing, tag) = match tag.strip_prefix('/') {
            Some(t) => (true, t),
            None => (false, tag),
        };
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if name.is_empty() || NOT_COUNTED.contains(&name.as_str()) {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
        } else if !tag.split('>').next().unwrap_or("").ends_with('/') {
            depth += 1;
            deepest = deepest.max(depth);
        }
    }
    deepest
}

/// Running text being collected: finished paragraphs and the one being written.
#[derive(Default)]
struct Flow {
    paragraphs: Vec<String>,
    current: String,
}

impl Flow {
    /// Adds text, with runs of white space (line breaks in the source) as one space.
    fn push(&mut self, text: &str) {
        for (i, word) in text.split(is_html_space).enumerate() {
            if i > 0 && !self.current.ends_with(' ') {
                self.current.push(' ');
            }
            self.current.push_str(word);
        }
    }

    /// Ends the paragraph being written (a block element begins or ends).
    fn end_paragraph(&mut self) {
        let text = std::mem::take(&mut self.current);
        let text = text.trim();
        if !text.is_empty() {
            self.paragraphs.push(text.to_string());
        }
    }

    fn finish(mut self) -> Vec<String> {
        self.end_paragraph();
        self.paragraphs
    }
}

/// White space as HTML collapses it, and the no-break space pages use for indents.
fn is_html_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\n' | '\r' | '\u{0c}' | '\u{a0}' | '\u{3000}'
    )
}

/// The page's data tables, found while walking it.
#[derive(Default)]
struct Walker {
    tables: Vec<Vec<Vec<DocCell>>>,
    /// Set when a table is met: tells the table around it that it is a layout table.
    saw_table: bool,
}

impl Walker {
    /// Walks a node's content into `flow`: text as running text, block elements as
    /// paragraph breaks, tables as tables.
    fn walk(&mut self, node: NodeRef<'_, Node>, flow: &mut Flow, depth: usize) {
        match node.value() {
            Node::Text(t) => flow.push(t),
            Node::Element(e) => {
                let name = e.name();
                if matches!(
                    name,
                    "script"
                        | "style"
                        | "noscript"
                        | "template"
                        | "head"
                        | "iframe"
                        | "object"
                        | "svg"
                        | "select"
                        | "button"
                ) {
                    return;
                }
                if name == "table" && depth < MAX_DEPTH {
                    self.saw_table = true;
                    flow.end_paragraph();
                    self.table(node, flow, depth);
                    return;
                }
                let block = is_block(name);
                if block {
                    flow.end_paragraph();
                }
                if depth >= MAX_DEPTH {
                    for d in node.descendants() {
                        if let Node::Text(t) = d.value() {
                            flow.push(t);
                        }
                    }
                } else {
                    for child in node.children() {
                        self.walk(child, flow, depth + 1);
                    }
                }
                if block {
                    flow.end_paragraph();
                }
            }
            Node::Document | Node::Fragment => {
                for child in node.children() {
                    self.walk(child, flow, depth + 1);
                }
            }
            _ => {}
        }
    }

    /// A table: its rows (directly or in `thead`/`tbody`/`tfoot`), each cell's content
    /// walked on its own. A table with a table inside is a layout table: its cells'
    /// paragraphs go to `flow`, in order.
    fn table(&mut self, table: NodeRef<'_, Node>, flow: &mut Flow, depth: usize) {
        self.saw_table = false;
        let mut rows: Vec<Vec<DocCell>> = Vec::new();
        let mut paragraphs: Vec<String> = Vec::new();
        for tr in rows_of(table) {
            let mut row = Vec::new();
            for td in tr.children() {
                let Node::Element(e) = td.value() else {
                    continue;
                };
                if !matches!(e.name(), "td" | "th") {
                    continue;
                }
                let span = |attr: &str| {
                    e.attr(attr)
                        .and_then(|v| v.trim().parse::<u32>().ok())
                        .unwrap_or(1)
                };
                let mut cell = Flow::default();
                for child in td.children() {
                    self.walk(child, &mut cell, depth + 1);
                }
                let lines = cell.finish();
                row.push(DocCell::new(
                    lines.join("\n"),
                    span("colspan"),
                    span("rowspan"),
                ));
                paragraphs.extend(lines);
            }
            rows.push(row);
        }
        let layout = self.saw_table;
        // The table around this one (if any) holds a table: it is a layout table.
        self.saw_table = true;
        if layout {
            for p in paragraphs {
                flow.push(&p);
                flow.end_paragraph();
            }
        } else {
            self.tables.push(rows);
        }
    }
}

/// A table's rows in order: its own `tr` children and those of its row groups (not
/// those of tables inside it).
fn rows_of<'a>(table: NodeRef<'a, Node>) -> Vec<NodeRef<'a, Node>> {
    let is = |n: &NodeRef<'a, Node>, names: &[&str]| matches!(n.value(), Node::Element(e) if names.contains(&e.name()));
    let mut out = Vec::new();
    for child in table.children() {
        if is(&child, &["tr"]) {
            out.push(child);
        } else if is(&child, &["thead", "tbody", "tfoot"]) {
            out.extend(child.children().filter(|c| is(c, &["tr"])));
        }
    }
    out
}

/// Elements that start a new line of text.
fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "br"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "li"
            | "ul"
            | "ol"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "nav"
            | "aside"
            | "main"
            | "blockquote"
            | "pre"
            | "center"
            | "dd"
            | "dt"
            | "dl"
            | "hr"
            | "caption"
            | "form"
            | "address"
            | "figure"
            | "figcaption"
            | "body"
            | "html"
    )
}
