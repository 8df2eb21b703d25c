//! Numbers a report's prose quotes for figures its tables hold (rule TX-2): "本年度共收到
//! 政府信息公开申请三十二件" says 表三's 新收 total is 32.
//!
//! The phrasings are data, in each format definition (`[[quotes]]`: a figure, its keys and
//! patterns such as `收到…申请…{n}件`); this module only reads numbers and matches
//! patterns. Prose is not a table: a number may be about a sub-category, another year or
//! several things at once. **Silence is preferred to a false alarm**: a pattern matches
//! within one clause only (text between `，`/`。`/`；`…), never across a digit, and not
//! when the clause names another year or the text before the number holds one of the
//! format's guard words (其中, 上年, 同比, 、…).

/// The characters a quoted number is made of: Arabic digits with separators, Chinese
/// numerals and their units (`1.5万`, `三十二`, `两千零五`).
fn is_number_char(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '.' | ',') || chinese_digit(c).is_some() || unit(c) > 0.0
}

fn chinese_digit(c: char) -> Option<f64> {
    let d = match c {
        '零' | '〇' => 0,
        '一' => 1,
        '二' | '两' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    };
    Some(f64::from(d))
}

/// 十, 百, 千 multiply the digit before them within a section; 万 and 亿 close it.
fn unit(c: char) -> f64 {
    match c {
        '十' => 10.0,
        '百' => 100.0,
        '千' => 1_000.0,
        '万' => 10_000.0,
        '亿' => 100_000_000.0,
        _ => 0.0,
    }
}

/// A number as prose writes it: `12`, `1,234`, `0.5万`, `三十二`, `一百零八`, `两千零五`,
/// `3万5千`; `None` when the text is not one number.
pub fn chinese_number(text: &str) -> Option<f64> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() || !chars.iter().all(|c| is_number_char(*c)) {
        return None;
    }
    // 二〇二四: digits without units read positionally.
    if chars.len() > 1 && chars.iter().all(|c| chinese_digit(*c).is_some()) {
        return chars
            .iter()
            .try_fold(0.0, |acc, c| Some(acc * 10.0 + chinese_digit(*c)?));
    }
    let (mut total, mut section, mut number) = (0.0, 0.0, None::<f64>);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || matches!(chars[i], '.' | ',')) {
                i += 1;
            }
            let run: String = chars[start..i].iter().filter(|c| **c != ',').collect();
            number = Some(run.parse().ok()?);
            continue;
        }
        if let Some(d) = chinese_digit(c) {
            number = Some(d);
        } else if matches!(c, '万' | '亿') {
            total += (section + number.unwrap_or(0.0)) * unit(c);
            section = 0.0;
            number = None;
        } else if unit(c) > 0.0 {
            // 十 alone is ten: "十二" = 12.
            section += number.unwrap_or(1.0) * unit(c);
            number = None;
        } else {
            return None;
        }
        i += 1;
    }
    let value = total + section + number.unwrap_or(0.0);
    value.is_finite().then_some(value)
}

/// A date as people write it, the whole of `text`: `2025-01-13`, `2025/1/13`,
/// `2025.1.13`, `2025年1月13日`, `二〇二五年一月十三日`, blanks around its parts
/// allowed: (year, month, day) when it is a plausible one.
pub fn date(text: &str) -> Option<(u32, u32, u32)> {
    let mut numbers = Vec::with_capacity(3);
    let mut rest = text.trim();
    for seps in [['-', '/', '.', '年'], ['-', '/', '.', '月']] {
        let end = rest.find(seps)?;
        numbers.push(date_part(&rest[..end])?);
        rest = &rest[end..];
        rest = &rest[rest.chars().next()?.len_utf8()..];
    }
    let day = rest.trim().strip_suffix('日').unwrap_or(rest);
    numbers.push(date_part(day)?);
    let (y, m, d) = (numbers[0], numbers[1], numbers[2]);
    let valid = (1990..=2200).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d);
    valid.then_some((y, m, d))
}

/// One number of a date, in Arabic or Chinese digits (no separators, no 万).
fn date_part(text: &str) -> Option<u32> {
    let text = text.trim();
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || chinese_digit(c).is_some() || c == '十');
    let n = chinese_number(text).filter(|_| plain)?;
    (n.fract() == 0.0 && n < 10_000.0).then_some(n as u32)
}

/// One element of a pattern: literal text, a gap of a few words, or the number.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(Vec<char>),
    Gap,
    Number,
}

/// The longest gap `…` stands for, in characters: enough for "政府信息公开" or "依申请",
/// short enough that the pattern stays within one statement.
const GAP_MAX: usize = 12;

/// A phrasing of a format definition: literal text, `…` for a short gap (no digit in it)
/// and `{n}` for the number, e.g. `收到…申请…{n}件`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    pieces: Vec<Piece>,
    source: String,
}

impl Pattern {
    /// Reads a pattern; the error says what is wrong with it (for the format loader).
    pub fn parse(source: &str) -> Result<Pattern, String> {
        let mut pieces = Vec::new();
        let mut text = Vec::new();
        let mut rest = source;
        while let Some(c) = rest.chars().next() {
            let special = if rest.starts_with("{n}") {
                Some((Piece::Number, 3))
            } else if c == '…' {
                Some((Piece::Gap, c.len_utf8()))
            } else {
                None
            };
            match special {
                Some((piece, len)) => {
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(piece);
                    rest = &rest[len..];
                }
                None => {
                    if !c.is_whitespace() {
                        text.push(c);
                    }
                    rest = &rest[c.len_utf8()..];
                }
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        let numbers = pieces.iter().filter(|p| **p == Piece::Number).count();
        if numbers != 1 {
            return Err(format!("“{source}” 应含一个 {{n}}"));
        }
        // The unit word right after the number is what makes it a count of the figure.
        if pieces
            .windows(2)
            .any(|w| w[0] == Piece::Number && !matches!(w[1], Piece::Text(_)))
        {
            return Err(format!("“{source}” 的 {{n}} 之后须紧跟文字（如 件）"));
        }
        if pieces
            .windows(2)
            .any(|w| w[0] == Piece::Gap && w[1] == Piece::Gap)
        {
            return Err(format!("“{source}” 有两个相连的 …"));
        }
        if !matches!(pieces.first(), Some(Piece::Text(_)))
            || !matches!(pieces.last(), Some(Piece::Text(_)))
        {
            return Err(format!("“{source}” 须以文字开头和结尾"));
        }
        Ok(Pattern {
            pieces,
            source: source.to_string(),
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// The first place the pattern matches in `clause`, shortest gaps first.
    fn find(&self, clause: &[char]) -> Option<Match> {
        (0..clause.len()).find_map(|start| {
            let mut m = Match {
                start,
                ..Match::default()
            };
            self.match_from(0, start, clause, &mut m).then_some(m)
        })
    }

    fn match_from(&self, piece: usize, at: usize, clause: &[char], m: &mut Match) -> bool {
        let Some(p) = self.pieces.get(piece) else {
            return true;
        };
        match p {
            Piece::Text(t) => {
                clause[at..].starts_with(t) && self.match_from(piece + 1, at + t.len(), clause, m)
            }
            Piece::Gap => {
                let room = clause[at..]
                    .iter()
                    .take(GAP_MAX)
                    .take_while(|c| !c.is_ascii_digit())
                    .count();
                (0..=room).any(|len| {
                    let before = m.gaps.len();
                    m.gaps.extend(&clause[at..at + len]);
                    m.gaps.push('|');
                    let ok = self.match_from(piece + 1, at + len, clause, m);
                    if !ok {
                        m.gaps.truncate(before);
                    }
                    ok
                })
            }
            Piece::Number => {
                let run = clause[at..]
                    .iter()
                    .take_while(|c| is_number_char(**c))
                    .count();
                // The whole run is the number ("12件" is never "2件"); only trailing units
                // may belong to the text after it (`{n}万元`).
                let units = clause[at..at + run]
                    .iter()
                    .rev()
                    .take_while(|c| unit(**c) > 0.0)
                    .count();
                ((run - units).max(1)..=run).rev().any(|n| {
                    let text: String = clause[at..at + n].iter().collect();
                    let Some(value) = chinese_number(&text) else {
                        return false;
                    };
                    m.number = value;
                    m.number_text = text;
                    self.match_from(piece + 1, at + n, clause, m)
                })
            }
        }
    }
}

#[derive(Debug, Default)]
struct Match {
    start: usize,
    /// What the gaps stood for, `|`-separated: guard words are looked for there too.
    gaps: Vec<char>,
    number: f64,
    number_text: String,
}

/// A figure the prose states: which of the figures given to [`find`], the number, and the
/// sentence it is in (as written, to quote back to the clerk).
#[derive(Debug, Clone, PartialEq)]
pub struct Quoted {
    pub figure: usize,
    pub number: f64,
    pub number_text: String,
    pub sentence: String,
}

/// Every figure `text` quotes, at most once per sentence and figure. `figures[i]` are the
/// patterns of figure `i`; `guards` the words that make a clause about something else;
/// `year` the report year (a clause naming another year is skipped).
pub fn find(
    text: &str,
    figures: &[&[Pattern]],
    guards: &[String],
    year: Option<i32>,
) -> Vec<Quoted> {
    let guards: Vec<Vec<char>> = guards.iter().map(|g| g.chars().collect()).collect();
    let mut out = Vec::new();
    for sentence in sentences(text) {
        for clause in clauses(sentence) {
            if names_another_year(&clause, year) {
                continue;
            }
            for (figure, patterns) in figures.iter().enumerate() {
                if out
                    .iter()
                    .any(|q: &Quoted| q.figure == figure && q.sentence == sentence.trim())
                {
                    continue;
                }
                let hit = patterns.iter().find_map(|p| p.find(&clause)).filter(|m| {
                    let before = &clause[..m.start];
                    !guards
                        .iter()
                        .any(|g| contains(before, g) || contains(&m.gaps, g))
                });
                if let Some(m) = hit {
                    out.push(Quoted {
                        figure,
                        number: m.number,
                        number_text: m.number_text,
                        sentence: sentence.trim().to_string(),
                    });
                }
            }
        }
    }
    out
}

/// Sentences: split after 。！？；, a line break, or their ASCII forms.
fn sentences(text: &str) -> impl Iterator<Item = &str> {
    text.split_inclusive(['。', '！', '？', '；', '\n', '!', '?', ';'])
        .filter(|s| !s.trim().is_empty())
}

/// A sentence's clauses, normalised for matching: full-width digits and letters made
/// ASCII, blanks removed ("收到申请 12 件").
fn clauses(sentence: &str) -> Vec<Vec<char>> {
    let normal: Vec<char> = sentence
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '０'..='９' | '．' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect();
    normal
        .split(|c| matches!(c, '，' | '：' | '。' | '！' | '？' | '；' | '!' | '?' | ';'))
        .filter(|c| !c.is_empty())
        .map(<[char]>::to_vec)
        .collect()
}

/// A clause naming a year other than the report's ("2023年共收到申请5件").
fn names_another_year(clause: &[char], year: Option<i32>) -> bool {
    let Some(year) = year else {
        return false;
    };
    clause.windows(5).any(|w| {
        w[4] == '年'
            && w[..4].iter().all(char::is_ascii_digit)
            && w[..4].iter().collect::<String>().parse() != Ok(year)
    })
}

fn contains(hay: &[char], needle: &[char]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_prose_writes_them() {
        let cases = [
            ("12", 12.0),
            ("1,234", 1234.0),
            ("0.5万", 5000.0),
            ("1.5万", 15000.0),
            ("三十二", 32.0),
            ("十二", 12.0),
            ("十", 10.0),
            ("一百零八", 108.0),
            ("两千零五", 2005.0),
            ("3万5千", 35000.0),
            ("三万五千", 35000.0),
            ("二〇二四", 2024.0),
            ("零", 0.0),
        ];
        for (text, want) in cases {
            assert_eq!(chinese_number(text), Some(want), "{text}");
        }
        for text in ["", "件", "12件", ",", "."] {
            assert_eq!(chinese_number(text), None, "{text}");
        }
    }

    #[test]
    fn dates_are_read_in_the_ways_people_write_them() {
        for text in [
            "2025-01-13",
            "2025/1/13",
            "2025.1.13",
            "2025年1月13日",
            " 2025 年 1 月 13 日 ",
            "二〇二五年一月十三日",
        ] {
            assert_eq!(date(text), Some((2025, 1, 13)), "{text}");
        }
        for text in [
            "2025年1月",
            "2025-13-01",
            "1月13日",
            "2025年1月13日。",
            "截至2025年1月13日",
            "2025-1-1,5",
        ] {
            assert_eq!(date(text), None, "{text}");
        }
    }

    #[test]
    fn patterns_need_one_number_between_words() {
        assert!(Pattern::parse("收到…申请…{n}件").is_ok());
        assert!(Pattern::parse("收到申请件").is_err());
        assert!(Pattern::parse("{n}件").is_err());
        assert!(Pattern::parse("收到…{n}…件").is_err());
        assert!(Pattern::parse("收到{n}件{n}件").is_err());
    }

    fn found(text: &str) -> Vec<(usize, f64)> {
        let new = [
            Pattern::parse("收到…申请…{n}件").unwrap(),
            Pattern::parse("新收…申请…{n}件").unwrap(),
        ];
        let review = [Pattern::parse("行政复议…{n}件").unwrap()];
        let fee = [Pattern::parse("信息处理费…{n}元").unwrap()];
        let guards: Vec<String> = ["其中", "上年", "同比", "、", "和", "复议", "维持"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        find(text, &[&new, &review, &fee], &guards, Some(2024))
            .into_iter()
            .map(|q| (q.figure, q.number))
            .collect()
    }

    #[test]
    fn real_phrasings_are_read() {
        assert_eq!(found("本年度共收到政府信息公开申请12件。"), [(0, 12.0)]);
        assert_eq!(found("全年共收到依申请公开申请 １２ 件"), [(0, 12.0)]);
        assert_eq!(
            found("本年新收政府信息公开申请三十二件，均已按时答复。"),
            [(0, 32.0)]
        );
        assert_eq!(found("收到申请共计5件；"), [(0, 5.0)]);
        assert_eq!(found("因政府信息公开被申请行政复议2件。"), [(1, 2.0)]);
        assert_eq!(found("收取信息处理费0.5万元。"), [(2, 5000.0)]);
        assert_eq!(found("收取信息处理费120元"), [(2, 120.0)]);
    }

    #[test]
    fn numbers_about_something_else_are_left_alone() {
        // Another year, a sub-category, several things at once, a digit in the gap.
        assert!(found("2023年共收到政府信息公开申请9件。").is_empty());
        assert!(found("比上年收到申请增加3件。").is_empty());
        assert!(found("其中收到自然人申请3件。").is_empty());
        // The 复议 figure, not 新收:
        assert_eq!(found("收到行政复议申请2件。"), [(1, 2.0)]);
        assert!(found("行政复议、行政诉讼共3件。").is_empty());
        assert!(found("行政复议结果维持1件。").is_empty());
        assert!(found("收到2024年度申请5件。").is_empty());
        assert!(found("本年度未收到政府信息公开申请。").is_empty());
    }

    #[test]
    fn a_sentence_names_a_figure_once_and_clauses_do_not_mix() {
        assert_eq!(
            found("收到申请5件，行政复议1件。收到申请5件。"),
            [(0, 5.0), (1, 1.0), (0, 5.0)]
        );
        assert_eq!(found("收到申请5件，同比增长2件。"), [(0, 5.0)]);
    }
}
