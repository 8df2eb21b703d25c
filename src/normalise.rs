//! Raw cells → values, recording every fix (pure).
//!
//! Turns the raw cells read back from a returned workbook into values: numbers of the
//! cell's [`Kind`], text sections, and keys for matching official labels. People type
//! numbers in many ways (full-width digits, `1,234`, `—` for nothing, `25.1万元`); each
//! accepted variant is turned into a number and the change is recorded as a short note in
//! Chinese ([`Number::fix`]), so nothing is changed silently. A cell that cannot be taken
//! as a number gives a [`NumberProblem`], never a guess.
//!
//! People's prose is never rewritten: [`text`] only trims the outside and unifies line
//! endings. No I/O and no printing happen here.

use crate::cell::CellRef;
use crate::format::Kind;
use crate::model::MAX_VALUE;
use crate::read::RawValue;

/// A number read from a cell, and what was done to get it (None if taken as is).
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    pub value: f64,
    pub fix: Option<String>,
}

impl Number {
    fn plain(value: f64) -> Number {
        Number { value, fix: None }
    }

    fn fixed(value: f64, note: impl Into<String>) -> Number {
        Number {
            value,
            fix: Some(note.into()),
        }
    }
}

/// Why a cell cannot be taken as a number of its kind.
#[derive(Debug, Clone, PartialEq)]
pub enum NumberProblem {
    /// Text that is not a number (also a TRUE/FALSE cell).
    NotANumber,
    /// A whole number was expected.
    Fraction,
    /// Below zero where only `Signed` cells may be.
    Negative,
    /// A formula error value such as `#VALUE!`.
    FormulaError,
    /// The cell is formatted as a date.
    Date,
    /// Beyond what a report can hold ([`crate::model::MAX_VALUE`]).
    TooLarge,
    /// A formula saved without its result that is not arithmetic computed here.
    Formula(FormulaProblem),
}

impl NumberProblem {
    /// What is wrong, for a clerk.
    pub fn message(&self) -> String {
        match self {
            NumberProblem::NotANumber => "应为数字，实际为文字",
            NumberProblem::Fraction => "计数应为整数，不能有小数",
            NumberProblem::Negative => "不能为负数",
            NumberProblem::FormulaError => "单元格是公式错误值",
            NumberProblem::Date => "单元格被设成了日期格式",
            NumberProblem::TooLarge => "数值过大，超出了报告能容纳的范围（不超过一万亿）",
            NumberProblem::Formula(why) => {
                return format!(
                    "单元格是公式，但没有保存计算结果，也无法按简单算术算出（{}）",
                    why.why()
                )
            }
        }
        .to_string()
    }

    /// What to do about it, for a clerk.
    pub fn hint(&self, kind: Kind, unit: Option<&str>) -> String {
        let unit = declared_unit(unit);
        match self {
            NumberProblem::NotANumber => match kind {
                Kind::Count => "请填写阿拉伯数字，例如 12".to_string(),
                Kind::Signed => "请填写阿拉伯数字，例如 12；减少填负数，例如 -2".to_string(),
                Kind::Amount => format!("请填写阿拉伯数字，例如 1.5（单位：{unit}）"),
            },
            NumberProblem::Fraction => "请填写整数，例如 3".to_string(),
            NumberProblem::Negative => match kind {
                Kind::Amount => format!("请填写实际金额（单位：{unit}），没有请填 0"),
                Kind::Count | Kind::Signed => "如确有减少，仅“本年增/减”可填负数".to_string(),
            },
            NumberProblem::FormulaError => "请检查公式或直接填写数字".to_string(),
            NumberProblem::Date => "请把单元格格式改为“常规”后重新填写数字".to_string(),
            NumberProblem::TooLarge => "请核对是否多输入了数字或输错了单位".to_string(),
            NumberProblem::Formula(_) => {
                "请用 Excel 或 WPS 打开后保存一次（会保存计算结果），或直接填写数字".to_string()
            }
        }
    }
}

/// Reads a cell as a number of `kind` (`unit` is the column's declared unit for
/// [`Kind::Amount`], 元 if none). An empty cell counts as 0.
pub fn number(
    raw: Option<&RawValue>,
    kind: Kind,
    unit: Option<&str>,
) -> Result<Number, NumberProblem> {
    match raw {
        None => Ok(Number::fixed(0.0, "空白按 0 计")),
        Some(RawValue::Number(x)) => from_float(*x, kind).map(Number::plain),
        Some(RawValue::Bool(_)) => Err(NumberProblem::NotANumber),
        Some(RawValue::Error(_)) => Err(NumberProblem::FormulaError),
        Some(RawValue::Date(_)) => Err(NumberProblem::Date),
        Some(RawValue::Text(s)) => from_text(s, kind, unit),
    }
}

/// Reads a formula saved without its result (`=1+4`, as openpyxl and other generators
/// write formulas) as a number of `kind`: `value` is what [`formula`] computed from it.
/// A computed value is recorded as a fix, so that nothing is taken silently; one that
/// could not be computed is a problem naming why, never 0.
pub fn formula_number(
    text: &str,
    value: &Result<f64, FormulaProblem>,
    kind: Kind,
) -> Result<Number, NumberProblem> {
    let value = value.clone().map_err(NumberProblem::Formula)?;
    let value = from_float(value, kind)?;
    let v = crate::model::number_text(value);
    let text = crate::model::clip(text.trim());
    Ok(Number::fixed(
        value,
        format!("公式“{text}”没有保存计算结果，按计算结果 {v} 计"),
    ))
}

/// Whether a value is a formula's text (a formula saved without its result is read as
/// a value without a result holding its text, `=` first).
pub fn is_formula(text: &str) -> bool {
    text.trim_start().starts_with('=')
}

/// Why a formula cannot be computed here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormulaProblem {
    /// Not the arithmetic computed here: another function than SUM, another sheet,
    /// text, comparisons…
    Unsupported,
    /// A cell it uses holds something other than a plain number.
    NotANumber(CellRef),
    /// A division by zero.
    DivisionByZero,
}

impl FormulaProblem {
    /// Why, for a clerk.
    pub fn why(&self) -> String {
        match self {
            FormulaProblem::Unsupported => {
                "只能计算数字、单元格、+ - * /、括号和 SUM 组成的公式".to_string()
            }
            FormulaProblem::NotANumber(at) => format!("引用的单元格 {at} 不是数字"),
            FormulaProblem::DivisionByZero => "除数为 0".to_string(),
        }
    }
}

/// What a formula may read of its sheet: the sum of the plain numbers in the rectangle
/// from one cell to another (empty cells count 0), or the first cell holding anything
/// else.
pub type SheetCells<'a> = dyn Fn(CellRef, CellRef) -> Result<f64, CellRef> + 'a;

/// Computes the arithmetic a clerk types into a cell: numbers, `+ - * /`, parentheses,
/// cells of the same sheet (`E8`, `$E$8`) and `SUM` over cells and ranges
/// (`=SUM(E8:E9)`, `=SUM(E8,E9)`). Anything else is [`FormulaProblem::Unsupported`]; a
/// cell that does not hold a plain number is [`FormulaProblem::NotANumber`]. Pure: the
/// sheet is read through `cells`.
pub fn formula(text: &str, cells: &SheetCells<'_>) -> Result<f64, FormulaProblem> {
    const LONGEST: usize = 1_000;
    let body = text
        .trim()
        .strip_prefix('=')
        .ok_or(FormulaProblem::Unsupported)?;
    if body.len() > LONGEST || !body.is_ascii() {
        return Err(FormulaProblem::Unsupported);
    }
    let mut p = Formula {
        s: body.as_bytes(),
        i: 0,
        depth: 0,
        cells,
    };
    let value = p.expr()?;
    p.blanks();
    if p.i != p.s.len() {
        return Err(FormulaProblem::Unsupported);
    }
    if value.is_finite() {
        Ok(value + 0.0)
    } else {
        Err(FormulaProblem::Unsupported)
    }
}

/// A recursive-descent reading of a formula's text.
struct Formula<'a, 'c> {
    s: &'a [u8],
    i: usize,
    depth: u32,
    cells: &'a SheetCells<'c>,
}

impl Formula<'_, '_> {
    const DEEPEST: u32 = 64;

    fn blanks(&mut self) {
        while self.s.get(self.i).is_some_and(|b| b.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.blanks();
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let ate = self.peek() == Some(b);
        if ate {
            self.i += 1;
        }
        ate
    }

    fn deeper(&mut self) -> Result<(), FormulaProblem> {
        self.depth += 1;
        if self.depth > Self::DEEPEST {
            return Err(FormulaProblem::Unsupported);
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<f64, FormulaProblem> {
        let mut v = self.term()?;
        loop {
            if self.eat(b'+') {
                v += self.term()?;
            } else if self.eat(b'-') {
                v -= self.term()?;
            } else {
                return Ok(v);
            }
        }
    }

    fn term(&mut self) -> Result<f64, FormulaProblem> {
        let mut v = self.factor()?;
        loop {
            if self.eat(b'*') {
                v *= self.factor()?;
            } else if self.eat(b'/') {
                let d = self.factor()?;
                if d == 0.0 {
                    return Err(FormulaProblem::DivisionByZero);
                }
                v /= d;
            } else {
                return Ok(v);
            }
        }
    }

    fn factor(&mut self) -> Result<f64, FormulaProblem> {
        self.deeper()?;
        let v = match self.peek() {
            Some(b'+') => {
                self.i += 1;
                self.factor()
            }
            Some(b'-') => {
                self.i += 1;
                self.factor().map(|v| -v)
            }
            Some(b'(') => {
                self.i += 1;
                let v = self.expr()?;
                if self.eat(b')') {
                    Ok(v)
                } else {
                    Err(FormulaProblem::Unsupported)
                }
            }
            Some(b) if b.is_ascii_digit() || b == b'.' => self.number(),
            Some(b) if b.is_ascii_alphabetic() || b == b'$' => {
                let word = self.word();
                if self.peek() == Some(b'(') {
                    if !word.eq_ignore_ascii_case("SUM") {
                        return Err(FormulaProblem::Unsupported);
                    }
                    self.i += 1;
                    self.sum()
                } else {
                    let at = CellRef::parse(&word).ok_or(FormulaProblem::Unsupported)?;
                    self.read(at, at)
                }
            }
            _ => Err(FormulaProblem::Unsupported),
        };
        self.depth -= 1;
        v
    }

    fn number(&mut self) -> Result<f64, FormulaProblem> {
        let start = self.i;
        let digits = |p: &mut Self| {
            while p.s.get(p.i).is_some_and(u8::is_ascii_digit) {
                p.i += 1;
            }
        };
        digits(self);
        if self.s.get(self.i) == Some(&b'.') {
            self.i += 1;
            digits(self);
        }
        if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            digits(self);
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
            .ok_or(FormulaProblem::Unsupported)
    }

    /// A function name or a cell address.
    fn word(&mut self) -> String {
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'$')
        {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    fn read(&self, from: CellRef, to: CellRef) -> Result<f64, FormulaProblem> {
        (self.cells)(from, to).map_err(FormulaProblem::NotANumber)
    }

    /// `SUM(` already read: its arguments, each a range or an expression, and `)`.
    fn sum(&mut self) -> Result<f64, FormulaProblem> {
        let mut total = 0.0;
        loop {
            total += self.sum_argument()?;
            if self.eat(b')') {
                return Ok(total);
            }
            if !self.eat(b',') {
                return Err(FormulaProblem::Unsupported);
            }
        }
    }

    fn sum_argument(&mut self) -> Result<f64, FormulaProblem> {
        let start = self.i;
        if self
            .peek()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'$')
        {
            let first = self.word();
            if self.eat(b':') {
                self.blanks();
                let second = self.word();
                let (a, b) = CellRef::parse(&first)
                    .zip(CellRef::parse(&second))
                    .ok_or(FormulaProblem::Unsupported)?;
                let from = CellRef::new(a.row.min(b.row), a.col.min(b.col));
                let to = CellRef::new(a.row.max(b.row), a.col.max(b.col));
                return self.read(from, to);
            }
            self.i = start;
        }
        self.expr()
    }
}

/// Reads a text cell: trimmed outside, line endings unified to `\n`, trailing spaces of
/// each line removed; the prose itself is untouched. Other cells give their displayed
/// value. The note is `Some` only when more than trimming and line endings changed.
pub fn text(raw: Option<&RawValue>) -> (String, Option<String>) {
    match raw {
        None => (String::new(), None),
        Some(RawValue::Text(s)) => {
            let unified = s.replace("\r\n", "\n").replace('\r', "\n");
            let trimmed = unified.trim_matches(is_blank);
            let mut out = String::with_capacity(trimmed.len());
            let mut stripped = false;
            for (i, line) in trimmed.split('\n').enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                let kept = line.trim_end_matches(is_blank);
                stripped |= kept.len() != line.len();
                out.push_str(kept);
            }
            let note = stripped.then(|| "去掉了行尾多余的空格".to_string());
            (out, note)
        }
        Some(other) => (other.display(), None),
    }
}

/// A key for matching an official label against what is in a returned workbook:
/// full-width ASCII folded, all whitespace removed, Chinese brackets, quotes and
/// punctuation mapped to ASCII, `1、` read as `1.`, a trailing `:` dropped, ASCII
/// lowercased. Chinese characters are kept as they are.
pub fn label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_blank(c) {
            continue;
        }
        let c = match fold_fullwidth(c) {
            '【' | '[' | '〔' => '(',
            '】' | ']' | '〕' => ')',
            '“' | '”' | '‘' | '’' | '\'' => '"',
            '、' if out.ends_with(|p: char| p.is_ascii_digit()) => '.',
            c => c.to_ascii_lowercase(),
        };
        out.push(c);
    }
    while out.ends_with(':') {
        out.pop();
    }
    out
}

/// Whether a cell's text means "nothing" (counted as 0): empty, dashes (`—`, `——`, `-`,
/// `－`…), `/`, `\`, `无`, `暂无`, `没有`, `空`, `零`, `〇`, `0`. Surrounding and inner
/// spaces and full-width forms are ignored.
pub fn is_zero_word(s: &str) -> bool {
    let folded: String = s
        .chars()
        .filter(|&c| !is_blank(c))
        .map(fold_number_char)
        .collect();
    zero_word_folded(&folded)
}

// ---------------------------------------------------------------------------------------
// Internals

/// Count words allowed after a whole number: `12件`.
const COUNT_WORDS: [char; 6] = ['件', '个', '项', '次', '条', '人'];

/// Tolerance for whole numbers coming from Excel (floating-point noise of formulas).
const WHOLE_TOLERANCE: f64 = 1e-9;

/// Whitespace of any width, and the invisible characters copied in from web pages.
fn is_blank(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}'
        )
}

/// U+FF01..U+FF5E → U+0021..U+007E.
fn fold_fullwidth(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// Full-width folding, plus the Unicode minus sign some input methods produce.
fn fold_number_char(c: char) -> char {
    match c {
        '\u{2212}' => '-',
        c => fold_fullwidth(c),
    }
}

fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'
            | '\u{2011}'
            | '\u{2012}'
            | '\u{2013}'
            | '\u{2014}'
            | '\u{2015}'
            | '\u{2212}'
            | '\u{2500}'
    )
}

/// `s` is already folded and has no blanks.
fn zero_word_folded(s: &str) -> bool {
    s.is_empty()
        || s.chars().all(is_dash)
        || matches!(
            s,
            "/" | "\\" | "无" | "暂无" | "没有" | "空" | "零" | "〇" | "0"
        )
}

fn declared_unit(unit: Option<&str>) -> &str {
    match unit.map(str::trim) {
        Some(u) if !u.is_empty() => u,
        _ => "元",
    }
}

/// Powers of ten of the units people type after amounts.
fn unit_exponent(unit: &str) -> Option<i32> {
    match unit {
        "元" => Some(0),
        "万元" | "万" => Some(4),
        _ => None,
    }
}

/// The number in a cell's own value: checked, never noted.
fn from_float(x: f64, kind: Kind) -> Result<f64, NumberProblem> {
    if !x.is_finite() {
        return Err(NumberProblem::NotANumber);
    }
    if x.abs() > MAX_VALUE {
        return Err(NumberProblem::TooLarge);
    }
    if kind != Kind::Signed && x < -WHOLE_TOLERANCE {
        return Err(NumberProblem::Negative);
    }
    match kind {
        Kind::Count | Kind::Signed => {
            let whole = x.round();
            if (x - whole).abs() > WHOLE_TOLERANCE {
                return Err(NumberProblem::Fraction);
            }
            Ok(whole + 0.0)
        }
        // Tiny negatives are formula noise around 0.
        Kind::Amount => Ok(x.max(0.0) + 0.0),
    }
}

/// A decimal as typed: sign, integer digits (separators removed) and fraction digits.
struct Decimal {
    negative: bool,
    plus: bool,
    grouped: bool,
    has_point: bool,
    int: String,
    frac: String,
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `^[+-]?\d{1,3}(,\d{3})*(\.\d+)?$` or `^[+-]?\d+(\.\d+)?$`.
fn parse_decimal(s: &str) -> Option<Decimal> {
    let (negative, plus, s) = match s.as_bytes().first() {
        Some(b'-') => (true, false, &s[1..]),
        Some(b'+') => (false, true, &s[1..]),
        _ => (false, false, s),
    };
    let (int_part, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    if let Some(f) = frac {
        if !all_digits(f) {
            return None;
        }
    }
    let grouped = int_part.contains(',');
    if grouped {
        let mut groups = int_part.split(',');
        let first = groups.next().unwrap_or("");
        if !all_digits(first) || first.len() > 3 {
            return None;
        }
        if !groups.all(|g| g.len() == 3 && all_digits(g)) {
            return None;
        }
    } else if !all_digits(int_part) {
        return None;
    }
    Some(Decimal {
        negative,
        plus,
        grouped,
        has_point: frac.is_some(),
        int: int_part.replace(',', ""),
        frac: frac.unwrap_or("").to_string(),
    })
}

/// Moves the decimal point `by` places to the right (left if negative), exactly, and
/// returns canonical digits: no leading zeros (but at least `0`), no trailing fraction
/// zeros.
fn shift_point(int: &str, frac: &str, by: i32) -> (String, String) {
    let mut digits = format!("{int}{frac}");
    let mut point = int.len() as i64 + i64::from(by);
    if point < 0 {
        digits.insert_str(0, &"0".repeat(point.unsigned_abs() as usize));
        point = 0;
    }
    let point = point as usize;
    if point > digits.len() {
        digits.push_str(&"0".repeat(point - digits.len()));
    }
    let (i, f) = digits.split_at(point);
    let i = i.trim_start_matches('0');
    let i = if i.is_empty() { "0" } else { i };
    (i.to_string(), f.trim_end_matches('0').to_string())
}

fn from_text(s: &str, kind: Kind, unit: Option<&str>) -> Result<Number, NumberProblem> {
    let typed = s.trim_matches(is_blank);
    if typed.is_empty() {
        return Ok(Number::fixed(0.0, "空白按 0 计"));
    }

    // Fold full-width forms and drop blanks, noting what mattered.
    let mut body = String::with_capacity(typed.len());
    let mut fullwidth_digits = false;
    let mut split_digits = false;
    let mut after_blank = false;
    for c in typed.chars() {
        if is_blank(c) {
            after_blank = true;
            continue;
        }
        let f = fold_number_char(c);
        if f != c && (f.is_ascii_digit() || f == '.') {
            fullwidth_digits = true;
        }
        if after_blank
            && f.is_ascii_digit()
            && body.ends_with(|p: char| p.is_ascii_digit() || p == ',' || p == '.')
        {
            split_digits = true;
        }
        after_blank = false;
        body.push(f);
    }

    if body != "0" && zero_word_folded(&body) {
        return Ok(Number::fixed(0.0, format!("“{typed}”按 0 计")));
    }

    // Words around the number.
    let mut rest = body.as_str();
    let mut reworded = false;
    let mut shift = 0;
    let declared = declared_unit(unit);
    match kind {
        Kind::Count | Kind::Signed => {
            if let Some(r) = rest.strip_suffix(COUNT_WORDS) {
                rest = r;
                reworded = true;
            }
        }
        Kind::Amount => {
            if let Some(r) = rest.strip_prefix(['¥', '￥']) {
                rest = r;
                reworded = true;
            }
            let suffix = match unit_exponent(declared) {
                Some(to) => ["万元", "元", "万"]
                    .into_iter()
                    .find(|u| rest.ends_with(u))
                    .map(|u| (u, unit_exponent(u).unwrap_or(to) - to)),
                None => rest.ends_with(declared).then_some((declared, 0)),
            };
            if let Some((u, by)) = suffix {
                rest = &rest[..rest.len() - u.len()];
                reworded = true;
                shift = by;
            }
        }
    }

    let dec = parse_decimal(rest).ok_or(NumberProblem::NotANumber)?;
    let (int, frac) = shift_point(&dec.int, &dec.frac, shift);
    let is_zero = int == "0" && frac.is_empty();
    let canonical = if frac.is_empty() {
        format!("{}{int}", if dec.negative { "-" } else { "" })
    } else {
        format!("{}{int}.{frac}", if dec.negative { "-" } else { "" })
    };
    let value = canonical
        .parse::<f64>()
        .map_err(|_| NumberProblem::NotANumber)?
        + 0.0;
    // Digits past the bound (twenty of them lose precision; four hundred are infinite).
    if !value.is_finite() || value.abs() > MAX_VALUE {
        return Err(NumberProblem::TooLarge);
    }
    if dec.negative && !is_zero && kind != Kind::Signed {
        return Err(NumberProblem::Negative);
    }
    if kind != Kind::Amount && !frac.is_empty() {
        return Err(NumberProblem::Fraction);
    }

    let pre = if fullwidth_digits { "全角数字" } else { "" };
    let v = crate::model::number_text(value);
    let note = if shift != 0 {
        format!("{pre}“{typed}”换算为 {v} {declared}")
    } else if dec.grouped || split_digits {
        let removed: Vec<&str> = [(split_digits, "空格"), (dec.grouped, "千位分隔符")]
            .into_iter()
            .filter_map(|(done, what)| done.then_some(what))
            .collect();
        format!("{pre}“{typed}”去掉{}按 {v} 计", removed.join("和"))
    } else if fullwidth_digits || reworded || dec.plus || (kind != Kind::Amount && dec.has_point) {
        format!("{pre}“{typed}”按 {v} 计")
    } else {
        format!("文本“{typed}”按数字 {v} 计")
    };
    Ok(Number::fixed(value, note))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug)]
    enum Want {
        /// Value, and whether a fix note is expected.
        Ok(f64, bool),
        Err(NumberProblem),
    }

    fn t(s: &str) -> Option<RawValue> {
        Some(RawValue::Text(s.to_string()))
    }

    fn n(x: f64) -> Option<RawValue> {
        Some(RawValue::Number(x))
    }

    #[test]
    fn number_table() {
        use Kind::{Amount, Count, Signed};
        use NumberProblem::*;
        let cases: Vec<(Option<RawValue>, Kind, Option<&str>, Want)> = vec![
            // Empty and non-text cells.
            (None, Count, None, Want::Ok(0.0, true)),
            (n(12.0), Count, None, Want::Ok(12.0, false)),
            (n(0.0), Count, None, Want::Ok(0.0, false)),
            (n(-1.0), Count, None, Want::Err(Negative)),
            (n(2.5), Count, None, Want::Err(Fraction)),
            (n(2.9999999999), Count, None, Want::Ok(3.0, false)),
            (n(-1e-12), Count, None, Want::Ok(0.0, false)),
            (n(-3.0), Signed, None, Want::Ok(-3.0, false)),
            (n(1.5), Signed, None, Want::Err(Fraction)),
            (n(7730.28), Amount, Some("万元"), Want::Ok(7730.28, false)),
            (n(-0.5), Amount, Some("元"), Want::Err(Negative)),
            (n(f64::NAN), Count, None, Want::Err(NotANumber)),
            (
                Some(RawValue::Bool(true)),
                Count,
                None,
                Want::Err(NotANumber),
            ),
            (
                Some(RawValue::Error("#VALUE!".into())),
                Count,
                None,
                Want::Err(FormulaError),
            ),
            (
                Some(RawValue::Date("2024-01-01T00:00:00".into())),
                Amount,
                None,
                Want::Err(Date),
            ),
            // Text that is a plain number; trimming and full-width forms.
            (t("12"), Count, None, Want::Ok(12.0, true)),
            (t("１２"), Count, None, Want::Ok(12.0, true)),
            (t("  12\u{3000}"), Count, None, Want::Ok(12.0, true)),
            (t("\u{200B}12\u{00A0}"), Count, None, Want::Ok(12.0, true)),
            (t("１２．５"), Amount, Some("元"), Want::Ok(12.5, true)),
            (t("1 234"), Count, None, Want::Ok(1234.0, true)),
            (t("007"), Count, None, Want::Ok(7.0, true)),
            // Blank and zero words.
            (t(""), Count, None, Want::Ok(0.0, true)),
            (t(" \u{3000} "), Amount, None, Want::Ok(0.0, true)),
            (t("－"), Signed, None, Want::Ok(0.0, true)),
            (t("0"), Count, None, Want::Ok(0.0, true)),
            (t("０"), Amount, None, Want::Ok(0.0, true)),
            // Thousands separators.
            (t("1,234"), Count, None, Want::Ok(1234.0, true)),
            (t("1，234"), Count, None, Want::Ok(1234.0, true)),
            (t("12,345,678"), Count, None, Want::Ok(12_345_678.0, true)),
            (t("1,234.5"), Amount, Some("元"), Want::Ok(1234.5, true)),
            (t("1,2"), Count, None, Want::Err(NotANumber)),
            (t("1234,5"), Count, None, Want::Err(NotANumber)),
            (t(",123"), Count, None, Want::Err(NotANumber)),
            (t("1,234,56"), Count, None, Want::Err(NotANumber)),
            // Signs and currency.
            (t("+3"), Count, None, Want::Ok(3.0, true)),
            (t("＋3"), Signed, None, Want::Ok(3.0, true)),
            (t("-2"), Count, None, Want::Err(Negative)),
            (t("-2"), Signed, None, Want::Ok(-2.0, true)),
            (t("－２"), Signed, None, Want::Ok(-2.0, true)),
            (t("\u{2212}2"), Signed, None, Want::Ok(-2.0, true)),
            (t("-2"), Amount, None, Want::Err(Negative)),
            (t("-0"), Count, None, Want::Ok(0.0, true)),
            (t("¥1,234.5"), Amount, Some("元"), Want::Ok(1234.5, true)),
            (t("￥12"), Amount, None, Want::Ok(12.0, true)),
            (t("¥12"), Count, None, Want::Err(NotANumber)),
            // Count words.
            (t("12件"), Count, None, Want::Ok(12.0, true)),
            (t("12 件"), Count, None, Want::Ok(12.0, true)),
            (t("3个"), Signed, None, Want::Ok(3.0, true)),
            (t("5人"), Count, None, Want::Ok(5.0, true)),
            (t("2次"), Count, None, Want::Ok(2.0, true)),
            (t("12元"), Count, None, Want::Err(NotANumber)),
            (t("12件"), Amount, None, Want::Err(NotANumber)),
            // Units of amounts.
            (t("25.1万元"), Amount, Some("元"), Want::Ok(251_000.0, true)),
            (t("25.1万"), Amount, Some("元"), Want::Ok(251_000.0, true)),
            (t("2万元"), Amount, None, Want::Ok(20_000.0, true)),
            (t("12000元"), Amount, Some("万元"), Want::Ok(1.2, true)),
            (t("1元"), Amount, Some("万元"), Want::Ok(0.0001, true)),
            (t("0.1万元"), Amount, Some("元"), Want::Ok(1000.0, true)),
            (t("12元"), Amount, Some("元"), Want::Ok(12.0, true)),
            (t("3万元"), Amount, Some("万元"), Want::Ok(3.0, true)),
            (t("7730.28"), Amount, Some("万元"), Want::Ok(7730.28, true)),
            (t("5千元"), Amount, Some("千元"), Want::Ok(5.0, true)),
            (t("5万元"), Amount, Some("千元"), Want::Err(NotANumber)),
            // Fractions.
            (t("3.0"), Count, None, Want::Ok(3.0, true)),
            (t("3.5"), Count, None, Want::Err(Fraction)),
            (t("2.9999999999"), Count, None, Want::Err(Fraction)),
            (t("3.5"), Signed, None, Want::Err(Fraction)),
            (t("3.5"), Amount, Some("元"), Want::Ok(3.5, true)),
            // Not numbers.
            (t("十二"), Count, None, Want::Err(NotANumber)),
            (t("一"), Count, None, Want::Err(NotANumber)),
            (t("1e3"), Count, None, Want::Err(NotANumber)),
            (t("50%"), Amount, None, Want::Err(NotANumber)),
            (t("abc"), Count, None, Want::Err(NotANumber)),
            (t("3."), Amount, None, Want::Err(NotANumber)),
            (t(".5"), Amount, None, Want::Err(NotANumber)),
            (t("1.2.3"), Amount, None, Want::Err(NotANumber)),
            (t("--2"), Signed, None, Want::Err(NotANumber)),
            (t("NaN"), Amount, None, Want::Err(NotANumber)),
            (t("inf"), Amount, None, Want::Err(NotANumber)),
            (
                t(&format!("1{}", "0".repeat(400))),
                Count,
                None,
                Want::Err(TooLarge),
            ),
            // The bound of every value.
            (n(1e12), Count, None, Want::Ok(1e12, false)),
            (n(1e308), Count, None, Want::Err(TooLarge)),
            (n(-2e12), Signed, None, Want::Err(TooLarge)),
            (n(1.5e12), Amount, None, Want::Err(TooLarge)),
            (
                t("１２３４５６７８９０１２３４５６７８９０"),
                Count,
                None,
                Want::Err(TooLarge),
            ),
            (t("1000000000000"), Count, None, Want::Ok(1e12, true)),
        ];
        for (raw, kind, unit, want) in &cases {
            let got = number(raw.as_ref(), *kind, unit.as_deref());
            match (want, &got) {
                (Want::Ok(v, has_fix), Ok(num)) => {
                    assert_eq!(num.value, *v, "{raw:?} {kind:?} {unit:?}: {got:?}");
                    assert_eq!(
                        num.fix.is_some(),
                        *has_fix,
                        "{raw:?} {kind:?} {unit:?}: {got:?}"
                    );
                }
                (Want::Err(p), Err(q)) => assert_eq!(p, q, "{raw:?} {kind:?} {unit:?}"),
                _ => panic!("{raw:?} {kind:?} {unit:?}: want {want:?}, got {got:?}"),
            }
        }
        assert!(cases.len() >= 40);
    }

    /// A sheet of plain numbers for [`formula`]: E8 = 2, E9 = 3, F8 = 4, F9 is text.
    fn sheet(from: CellRef, to: CellRef) -> Result<f64, CellRef> {
        let cells = [
            ("E8", Some(2.0)),
            ("E9", Some(3.0)),
            ("F8", Some(4.0)),
            ("F9", None),
        ];
        let mut sum = 0.0;
        for (a1, v) in cells {
            let at = CellRef::parse(a1).unwrap();
            let inside =
                (from.row..=to.row).contains(&at.row) && (from.col..=to.col).contains(&at.col);
            match (inside, v) {
                (false, _) => {}
                (true, Some(x)) => sum += x,
                (true, None) => return Err(at),
            }
        }
        Ok(sum)
    }

    #[test]
    fn formulas_a_clerk_types_are_computed() {
        let f = |t: &str| formula(t, &sheet);
        for (text, want) in [
            ("=1+4", 5.0),
            ("= 1 + 4 ", 5.0),
            ("=(4+6)/2", 5.0),
            ("=-2*-3", 6.0),
            ("=10-2-3", 5.0),
            ("=2*3+4", 10.0),
            ("=2*(3+4)", 14.0),
            ("=1.5e2", 150.0),
            ("=E8+E9", 5.0),
            ("=$E$8*e9", 6.0),
            ("=SUM(E8:E9)", 5.0),
            ("=sum(E8,E9)", 5.0),
            ("=SUM(E9:E8, F8) - 1", 8.0),
            ("=SUM(E8:F8)", 6.0),
            ("=SUM((1+2)*2, E8)", 8.0),
            ("=A1", 0.0),
        ] {
            assert_eq!(f(text), Ok(want), "{text}");
        }
        let at = |a1: &str| CellRef::parse(a1).unwrap();
        for (text, want) in [
            ("=F9+1", FormulaProblem::NotANumber(at("F9"))),
            ("=SUM(E8:F9)", FormulaProblem::NotANumber(at("F9"))),
            ("=1/0", FormulaProblem::DivisionByZero),
            ("=1/(E8-2)", FormulaProblem::DivisionByZero),
            ("=VLOOKUP(1,A1:B2,2)", FormulaProblem::Unsupported),
            ("=Sheet2!A1", FormulaProblem::Unsupported),
            ("=E8:E9", FormulaProblem::Unsupported),
            ("=1+", FormulaProblem::Unsupported),
            ("=(1", FormulaProblem::Unsupported),
            ("=\"a\"&1", FormulaProblem::Unsupported),
            ("=50%", FormulaProblem::Unsupported),
            ("=１+1", FormulaProblem::Unsupported),
            ("=SUM()", FormulaProblem::Unsupported),
            ("1+1", FormulaProblem::Unsupported),
            ("=1e999", FormulaProblem::Unsupported),
        ] {
            assert_eq!(f(text), Err(want), "{text}");
        }
        let deep = format!("={}1{}", "(".repeat(500), ")".repeat(500));
        assert_eq!(f(&deep), Err(FormulaProblem::Unsupported));
        assert!(is_formula(" =1") && !is_formula("1=1"));
    }

    #[test]
    fn a_computed_formula_is_a_fix_and_keeps_its_kind() {
        let n = formula_number("=1+4", &Ok(5.0), Kind::Count).unwrap();
        assert_eq!(n.value, 5.0);
        assert_eq!(
            n.fix.as_deref(),
            Some("公式“=1+4”没有保存计算结果，按计算结果 5 计")
        );
        assert_eq!(
            formula_number("=5/2", &Ok(2.5), Kind::Count),
            Err(NumberProblem::Fraction)
        );
        let why = Err(FormulaProblem::Unsupported);
        assert_eq!(
            formula_number("=X()", &why, Kind::Count),
            Err(NumberProblem::Formula(FormulaProblem::Unsupported))
        );
    }

    #[test]
    fn zero_words_count_as_zero_with_a_note() {
        let words = [
            "", "—", "——", "–", "-", "－", "/", "／", "\\", "＼", "无", "暂无", "没有", "空", "零",
            "〇", "0", " 无 ",
        ];
        for w in words {
            assert!(is_zero_word(w), "{w:?}");
            for kind in [Kind::Count, Kind::Signed, Kind::Amount] {
                let got = number(Some(&RawValue::Text(w.to_string())), kind, None).unwrap();
                assert_eq!(got.value, 0.0, "{w:?}");
                assert!(got.fix.is_some(), "{w:?}");
            }
        }
        for w in ["1", "一", "0.5", "无效", "—1"] {
            assert!(!is_zero_word(w), "{w:?}");
        }
    }

    #[test]
    fn notes_say_what_was_typed_and_what_it_became() {
        let note = |s: &str, kind: Kind, unit: Option<&str>| {
            number(Some(&RawValue::Text(s.to_string())), kind, unit)
                .unwrap()
                .fix
                .unwrap()
        };
        assert_eq!(note("１２", Kind::Count, None), "全角数字“１２”按 12 计");
        assert_eq!(note("—", Kind::Count, None), "“—”按 0 计");
        assert_eq!(note("  ", Kind::Count, None), "空白按 0 计");
        assert_eq!(note("12", Kind::Count, None), "文本“12”按数字 12 计");
        assert_eq!(
            note("1,234", Kind::Count, None),
            "“1,234”去掉千位分隔符按 1234 计"
        );
        assert_eq!(note("3.0", Kind::Count, None), "“3.0”按 3 计");
        assert_eq!(
            note("25.1万元", Kind::Amount, Some("元")),
            "“25.1万元”换算为 251000 元"
        );
        assert_eq!(
            note("12000元", Kind::Amount, Some("万元")),
            "“12000元”换算为 1.2 万元"
        );
        assert_eq!(note("12件", Kind::Count, None), "“12件”按 12 计");
        assert_eq!(note("-2", Kind::Signed, None), "文本“-2”按数字 -2 计");
        assert_eq!(
            note("1 234", Kind::Count, None),
            "“1 234”去掉空格按 1234 计"
        );
        assert_eq!(note("¥12", Kind::Amount, None), "“¥12”按 12 计");
        assert_eq!(
            number(None, Kind::Count, None).unwrap().fix.unwrap(),
            "空白按 0 计"
        );
    }

    #[test]
    fn problems_have_messages_and_hints() {
        use NumberProblem::*;
        for p in [
            NotANumber,
            Fraction,
            Negative,
            FormulaError,
            Date,
            TooLarge,
            Formula(FormulaProblem::Unsupported),
        ] {
            for kind in [Kind::Count, Kind::Signed, Kind::Amount] {
                assert!(!p.message().is_empty());
                assert!(!p.hint(kind, Some("万元")).is_empty());
            }
        }
        assert_eq!(NotANumber.message(), "应为数字，实际为文字");
        assert_eq!(
            NotANumber.hint(Kind::Count, None),
            "请填写阿拉伯数字，例如 12"
        );
        assert!(NotANumber.hint(Kind::Amount, Some("万元")).contains("万元"));
        assert_eq!(
            Negative.hint(Kind::Count, None),
            "如确有减少，仅“本年增/减”可填负数"
        );
        assert_eq!(
            Date.hint(Kind::Count, None),
            "请把单元格格式改为“常规”后重新填写数字"
        );
    }

    #[test]
    fn labels_match_across_typing_styles() {
        let same = [
            (
                "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
                "(二) 部分公开 (区分处理的, 只计这一情形, 不计其他情形)",
            ),
            ("3.危及“三安全一稳定”", "3. 危及\"三安全一稳定\""),
            ("第二十条第（一）项", "第二十条 第(一)项"),
            ("本年新 制作数量", "本年新制作数量"),
            ("1、属于国家秘密", "1.属于国家秘密"),
            ("1．属于国家秘密", "1.属于国家秘密"),
            ("１、属于国家秘密", "1 . 属于国家秘密"),
            ("【申请人】：", "[申请人]"),
            ("信息内容：", "信息内容"),
            ("本年新\r\n制作数量", "本年新制作数量\u{3000}"),
            ("ＡＢＣ", "abc"),
            ("‘单引号’", "\"单引号\""),
        ];
        for (a, b) in same {
            assert_eq!(label(a), label(b), "{a:?} vs {b:?}");
        }
        // The enumeration comma between words stays.
        assert_eq!(label("行政复议、行政诉讼"), "行政复议、行政诉讼");
        assert_ne!(label("（一）"), label("（二）"));
    }

    #[test]
    fn text_keeps_prose_and_tidies_edges() {
        let txt = |s: &str| text(Some(&RawValue::Text(s.to_string())));
        assert_eq!(text(None), (String::new(), None));
        assert_eq!(
            txt("  第一段。\r\n第二段。\r\n"),
            ("第一段。\n第二段。".to_string(), None)
        );
        assert_eq!(
            txt("第一段。\r第二段。"),
            ("第一段。\n第二段。".to_string(), None)
        );
        assert_eq!(
            txt("\u{3000}\u{3000}本年度，我单位……\u{3000}"),
            ("本年度，我单位……".to_string(), None)
        );
        // Inner indentation, width and punctuation are kept.
        let prose = "一、总体情况\n\u{3000}\u{3000}２０２４年，全面推进（政务公开）, 共 12 件。";
        assert_eq!(txt(prose), (prose.to_string(), None));
        // Blank lines between paragraphs are kept.
        assert_eq!(txt("甲\n\n乙"), ("甲\n\n乙".to_string(), None));
        // Trailing spaces of inner lines are removed, and noted.
        let (s, note) = txt("第一段。  \n第二段。");
        assert_eq!(s, "第一段。\n第二段。");
        assert!(note.is_some());
        assert_eq!(
            text(Some(&RawValue::Number(12.0))),
            ("12".to_string(), None)
        );
        assert_eq!(
            text(Some(&RawValue::Number(1.5))),
            ("1.5".to_string(), None)
        );
    }

    fn any_kind() -> impl Strategy<Value = Kind> {
        prop::sample::select(vec![Kind::Count, Kind::Signed, Kind::Amount])
    }

    fn any_unit() -> impl Strategy<Value = Option<&'static str>> {
        prop::sample::select(vec![None, Some("元"), Some("万元"), Some("千元")])
    }

    fn numberish() -> impl Strategy<Value = String> {
        prop_oneof![
            "[ \u{3000}]?[+\\-－＋¥￥]?[0-9０-９,，]{0,14}([.．][0-9０-９]{0,8})?(万元|万|元|件|个)?[ ]?",
            "[0-9]{1,30}(\\.[0-9]{1,20})?(万元|元)?",
            "\\PC{0,12}",
        ]
    }

    proptest! {
        #[test]
        fn number_never_panics(s in "\\PC*", kind in any_kind(), unit in any_unit()) {
            let _ = number(Some(&RawValue::Text(s.clone())), kind, unit);
            let _ = is_zero_word(&s);
            let _ = text(Some(&RawValue::Text(s)));
        }

        #[test]
        fn number_never_panics_on_any_string(s in any::<String>(), kind in any_kind(), unit in any_unit()) {
            let _ = number(Some(&RawValue::Text(s)), kind, unit);
        }

        #[test]
        fn number_never_panics_on_any_float(x in any::<f64>(), kind in any_kind()) {
            let _ = number(Some(&RawValue::Number(x)), kind, None);
        }

        #[test]
        fn normalised_numbers_are_stable(s in numberish(), kind in any_kind(), unit in any_unit()) {
            if let Ok(n) = number(Some(&RawValue::Text(s)), kind, unit) {
                prop_assert!(n.value.is_finite());
                let again = number(Some(&RawValue::Number(n.value)), kind, unit);
                prop_assert_eq!(again, Ok(Number { value: n.value, fix: None }));
            }
        }

        #[test]
        fn label_is_idempotent(s in "\\PC*") {
            let once = label(&s);
            prop_assert_eq!(label(&once), once);
        }

        #[test]
        fn label_is_idempotent_on_any_string(s in any::<String>()) {
            let once = label(&s);
            prop_assert_eq!(label(&once), once);
        }
    }
}
