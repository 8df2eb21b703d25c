//! The identity contract between the template writer and the reader: how a workbook of
//! ours says whose report it is, for which year and in which format, and how each of its
//! cells says what it is.
//!
//! Three carriers, written by the template writer and read back by `locate`, all
//! defined here and nowhere else:
//!
//! - the very hidden sheet [`SHEET`]: column A the [`IdField`] keys, column B the values
//!   (cells survive every program's "save as", .xls and .ods included);
//! - the xlsx custom document properties `nianbao_*` (the same fields; xlsx only);
//! - the cover's fields ([`COVER_FIELDS`]) and, in the hidden key column of every sheet,
//!   the `nianbao:` markers ([`Marker`]).
//!
//! The format id is always read from a key (`format_id` on the hidden sheet,
//! `nianbao_format` in the properties). Only a workbook that lost both falls back on the
//! cover's visible format text, through [`format_from_cover_text`], the inverse of
//! [`cover_format_text`] that writes it: a change of wording changes both.
//!
//! This module knows no spreadsheet library: it deals in strings.

use std::collections::BTreeMap;

/// The name of the hidden identity sheet.
pub const SHEET: &str = "_nianbao";
/// A1 of the identity sheet (how it is recognised when renamed), and B1 beside it.
pub const SHEET_MARK: &str = "nianbao";
pub const SHEET_NOTE: &str = "政府信息公开工作年度报告模板标识，请勿修改";
/// The prefix of the custom document properties.
pub const PROPERTY_PREFIX: &str = "nianbao_";

/// The version of the template layout; written into every template.
pub const TEMPLATE_VERSION: u32 = 1;

/// One field of the identity, in the order the hidden sheet lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdField {
    FormatId,
    FormatVersion,
    TemplateVersion,
    UnitCode,
    UnitName,
    ParentCode,
    Level,
    Year,
    /// When the unit is to hand the report back (`2025-01-20`, [`Deadline::iso`]); absent
    /// in templates made without `--deadline` and in those of earlier versions.
    Deadline,
    /// Whom to ask (`--contact`), as printed on the cover.
    Contact,
}

impl IdField {
    pub const ALL: [IdField; 10] = [
        IdField::FormatId,
        IdField::FormatVersion,
        IdField::TemplateVersion,
        IdField::UnitCode,
        IdField::UnitName,
        IdField::ParentCode,
        IdField::Level,
        IdField::Year,
        IdField::Deadline,
        IdField::Contact,
    ];

    /// The key in column A of the hidden sheet.
    pub fn sheet_key(self) -> &'static str {
        match self {
            IdField::FormatId => "format_id",
            IdField::FormatVersion => "format_version",
            IdField::TemplateVersion => "template_version",
            IdField::UnitCode => "unit_code",
            IdField::UnitName => "unit_name",
            IdField::ParentCode => "parent_code",
            IdField::Level => "level",
            IdField::Year => "year",
            IdField::Deadline => "deadline",
            IdField::Contact => "contact",
        }
    }

    /// The custom document property, for the fields written there (the others travel
    /// on the hidden sheet only).
    pub fn property(self) -> Option<&'static str> {
        match self {
            IdField::FormatId => Some("nianbao_format"),
            IdField::FormatVersion => Some("nianbao_format_version"),
            IdField::TemplateVersion => Some("nianbao_template_version"),
            IdField::UnitCode => Some("nianbao_unit_code"),
            IdField::Year => Some("nianbao_year"),
            IdField::UnitName
            | IdField::ParentCode
            | IdField::Level
            | IdField::Deadline
            | IdField::Contact => None,
        }
    }

    /// Written as a number in the document properties (the others as text: a unit code
    /// is an identifier, its leading zeros matter).
    pub fn is_number(self) -> bool {
        matches!(
            self,
            IdField::FormatVersion | IdField::TemplateVersion | IdField::Year
        )
    }

    fn from_sheet_key(key: &str) -> Option<IdField> {
        IdField::ALL.into_iter().find(|f| f.sheet_key() == key)
    }

    fn from_property(name: &str) -> Option<IdField> {
        IdField::ALL
            .into_iter()
            .find(|f| f.property() == Some(name))
    }
}

/// A workbook's identity fields, as written or as read (text; empty when absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdFields(BTreeMap<&'static str, String>);

impl IdFields {
    pub fn get(&self, field: IdField) -> Option<&str> {
        self.0
            .get(field.sheet_key())
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    pub fn set(&mut self, field: IdField, value: impl Into<String>) {
        self.0.insert(field.sheet_key(), value.into());
    }

    /// The rows of the hidden sheet: the mark row, then one row per field.
    pub fn sheet_rows(&self) -> Vec<(&'static str, &str)> {
        std::iter::once((SHEET_MARK, SHEET_NOTE))
            .chain(IdField::ALL.into_iter().map(|f| {
                (
                    f.sheet_key(),
                    self.0.get(f.sheet_key()).map_or("", String::as_str),
                )
            }))
            .collect()
    }

    /// The custom document properties to write: (field, property name, text), in field
    /// order; [`IdField::is_number`] says which are written as numbers.
    pub fn properties(&self) -> Vec<(IdField, &'static str, &str)> {
        IdField::ALL
            .into_iter()
            .filter_map(|f| Some((f, f.property()?, self.0.get(f.sheet_key())?.as_str())))
            .collect()
    }

    /// Reads the hidden sheet's (column A, column B) pairs; unknown keys are ignored.
    pub fn from_sheet_rows<'a>(rows: impl IntoIterator<Item = (&'a str, String)>) -> IdFields {
        let mut out = IdFields::default();
        for (key, value) in rows {
            if let Some(field) = IdField::from_sheet_key(key.trim()) {
                out.set(field, value);
            }
        }
        out
    }

    /// Reads the custom document properties; `None` when the workbook has none of ours.
    pub fn from_properties(props: &BTreeMap<String, String>) -> Option<IdFields> {
        let unit = IdField::UnitCode.property()?;
        if !props.contains_key(unit) {
            return None;
        }
        let mut out = IdFields::default();
        for (name, value) in props {
            if let Some(field) = IdField::from_property(name) {
                out.set(field, value.trim());
            }
        }
        Some(out)
    }
}

/// The day by which a unit is to hand its report back (`--deadline`): a calendar day in
/// China, so a workbook saved on it (up to 24:00 Beijing time) is on time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deadline {
    year: i32,
    month: u32,
    day: u32,
}

/// Beijing time's offset from UTC, in minutes: the deadline's day ends at 24:00 there.
const BEIJING_OFFSET: i64 = 8 * 60;

impl Deadline {
    /// `2025-01-20` (also `2025-1-20`, `2025/1/20`); `None` for anything that is not a
    /// day of the calendar.
    pub fn parse(text: &str) -> Option<Deadline> {
        let mut parts = text.trim().split(['-', '/']);
        let year: i32 = parts.next()?.trim().parse().ok()?;
        let month: u32 = parts.next()?.trim().parse().ok()?;
        let day: u32 = parts.next()?.trim().parse().ok()?;
        let valid = (1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && (1..=days_in_month(year, month)).contains(&day);
        (valid && parts.next().is_none()).then_some(Deadline { year, month, day })
    }

    /// As the identity sheet keeps it: `2025-01-20`.
    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// As a clerk reads it: `2025 年 1 月 20 日`.
    pub fn chinese(&self) -> String {
        format!("{} 年 {} 月 {} 日", self.year, self.month, self.day)
    }

    /// Whether a workbook saved at `saved` (the W3C date-time of `dcterms:modified`,
    /// `2025-01-21T02:00:00Z` as Excel and WPS write it in UTC; a time without an offset,
    /// as in an .ods's `dc:date`, is the clock of the computer that saved it, taken as
    /// Beijing time) was saved after the deadline's day ended in Beijing. `None` when
    /// `saved` is not such a time.
    pub fn is_passed_at(&self, saved: &str) -> Option<bool> {
        let end = days_from_civil(self.year, self.month, self.day + 1) * 1440 - BEIJING_OFFSET;
        Some(utc_minutes(saved)? >= end)
    }
}

/// The Beijing date and time (`2025-01-21 10:00`) of a W3C date-time, for messages.
pub fn beijing_time(saved: &str) -> Option<String> {
    let minutes = utc_minutes(saved)? + BEIJING_OFFSET;
    let (days, of_day) = (minutes.div_euclid(1440), minutes.rem_euclid(1440));
    let (y, m, d) = civil_from_days(days);
    Some(format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        of_day / 60,
        of_day % 60
    ))
}

/// Minutes since 1970-01-01 00:00 UTC of `YYYY-MM-DDThh:mm[:ss[.f]][Z|±hh:mm]`; without
/// an offset, the time is Beijing time (a local clock in China).
fn utc_minutes(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, time) = text.split_once('T').unwrap_or((text, "00:00"));
    let day = Deadline::parse(date)?;
    let (clock, offset) = match time.find(['Z', 'z', '+', '-']) {
        Some(i) => (&time[..i], &time[i..]),
        None => (time, ""),
    };
    let mut hm = clock.split(':');
    let hour: i64 = hm.next()?.parse().ok()?;
    let minute: i64 = hm.next()?.parse().ok()?;
    let offset = match offset {
        "" => BEIJING_OFFSET,
        "Z" | "z" => 0,
        signed => {
            let (sign, rest) = signed.split_at(1);
            let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
            let minutes = h.parse::<i64>().ok()? * 60 + m.parse::<i64>().ok()?;
            if sign == "-" {
                -minutes
            } else {
                minutes
            }
        }
    };
    if !(0..24).contains(&hour) || !(0..60).contains(&minute) {
        return None;
    }
    Some(days_from_civil(day.year, day.month, day.day) * 1440 + hour * 60 + minute - offset)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a (proleptic Gregorian) date; `day` may run one past the
/// month's end (the next day). Howard Hinnant's `days_from_civil`.
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// When and to whom a template is to be handed back (`--deadline`, `--contact`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Handback {
    pub deadline: Option<Deadline>,
    pub contact: String,
}

impl Handback {
    /// The one sentence the cover and its instructions print: `请于 2025 年 1 月 20 日前交回
    /// 本表，联系：县政务公开办 0453-0000000。`; `None` when neither was given.
    pub fn sentence(&self) -> Option<String> {
        let contact = self.contact.trim();
        match (&self.deadline, contact) {
            (None, "") => None,
            (Some(d), "") => Some(format!("请于 {}前交回本表。", d.chinese())),
            (None, c) => Some(format!("交回本表及有疑问的，联系：{c}。")),
            (Some(d), c) => Some(format!("请于 {}前交回本表，联系：{c}。", d.chinese())),
        }
    }

    /// What a workbook's identity says (fields absent in older templates: none).
    pub fn from_fields(fields: &IdFields) -> Handback {
        Handback {
            deadline: fields.get(IdField::Deadline).and_then(Deadline::parse),
            contact: fields.get(IdField::Contact).unwrap_or("").to_string(),
        }
    }
}

/// One field of the cover sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoverField {
    /// The code used in markers, CSVs and `fill` (`cover:<code>`).
    pub code: &'static str,
    /// The label beside the value, which the reader also finds it by.
    pub label: &'static str,
    /// Prefilled from the roster and locked; the others are for the clerk.
    pub locked: bool,
}

/// The cover sheet's rows, in order. Prefilled identity is locked; the contact fields are
/// for the clerk.
pub const COVER_FIELDS: &[CoverField] = &[
    cover("unit_name", "单位名称", true),
    cover("unit_code", "单位代码", true),
    cover("parent", "上级单位", true),
    cover("level", "单位层级", true),
    cover("year", "报告年度", true),
    cover("format", "报告格式", true),
    cover("filler", "填报人", false),
    cover("phone", "联系电话", false),
    cover("date", "填报日期", false),
    cover("head", "单位负责人", false),
];

const fn cover(code: &'static str, label: &'static str, locked: bool) -> CoverField {
    CoverField {
        code,
        label,
        locked,
    }
}

/// The cover's visible text for a format: `2019格式（国办公开办函〔2019〕60号）`.
pub fn cover_format_text(format_id: &str, document: &str) -> String {
    format!("{format_id}格式（{document}）")
}

/// The format id of a cover's format text, for a workbook that lost its hidden sheet and
/// properties: the known id whose [`cover_format_text`] it is, else the text before
/// `格式` (a blank template's cover typed in by hand).
pub fn format_from_cover_text<'a>(
    text: &str,
    known: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<String> {
    let text = text.trim();
    if let Some((id, _)) = known
        .into_iter()
        .find(|(id, doc)| text == cover_format_text(id, doc))
    {
        return Some(id.to_string());
    }
    let typed = text.split("格式").next().unwrap_or("").trim();
    (!typed.is_empty()).then(|| typed.to_string())
}

/// The markers of the hidden key column (column A of every sheet of ours), which say
/// what each row is whatever the sheet is called and wherever the row has moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Marker {
    /// `nianbao:table:<code>` (A1 of a table sheet).
    Table(String),
    /// `nianbao:cols`: the hidden row holding each data column's code.
    Cols,
    /// `nianbao:row:<code>`: a data row.
    Row(String),
    /// `nianbao:cover`: the cover sheet.
    Cover,
    /// `nianbao:text`: the text sheet.
    Text,
    /// `nianbao:field:<code>`: a cover field or a numeric field of the text sheet.
    Field(String),
    /// `nianbao:section:<code>`: a text section's input row.
    Section(String),
}

/// Every marker starts with this.
pub const MARKER_PREFIX: &str = "nianbao:";

const TABLE: &str = "nianbao:table:";
const COLS: &str = "nianbao:cols";
const ROW: &str = "nianbao:row:";
const COVER: &str = "nianbao:cover";
const TEXT: &str = "nianbao:text";
const FIELD: &str = "nianbao:field:";
const SECTION: &str = "nianbao:section:";

impl Marker {
    /// The text written in the key column.
    pub fn text(&self) -> String {
        match self {
            Marker::Table(code) => format!("{TABLE}{code}"),
            Marker::Cols => COLS.to_string(),
            Marker::Row(code) => format!("{ROW}{code}"),
            Marker::Cover => COVER.to_string(),
            Marker::Text => TEXT.to_string(),
            Marker::Field(code) => format!("{FIELD}{code}"),
            Marker::Section(code) => format!("{SECTION}{code}"),
        }
    }

    /// The marker a key-column text is, if any (surrounding blanks ignored).
    pub fn parse(text: &str) -> Option<Marker> {
        let text = text.trim();
        let code = |prefix: &str| text.strip_prefix(prefix).map(str::to_string);
        if let Some(c) = code(TABLE) {
            return Some(Marker::Table(c));
        }
        if let Some(c) = code(ROW) {
            return Some(Marker::Row(c));
        }
        if let Some(c) = code(FIELD) {
            return Some(Marker::Field(c));
        }
        if let Some(c) = code(SECTION) {
            return Some(Marker::Section(c));
        }
        match text {
            COLS => Some(Marker::Cols),
            COVER => Some(Marker::Cover),
            TEXT => Some(Marker::Text),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip() {
        for m in [
            Marker::Table("t3".into()),
            Marker::Cols,
            Marker::Row("new".into()),
            Marker::Cover,
            Marker::Text,
            Marker::Field("fee_cases".into()),
            Marker::Section("overview".into()),
        ] {
            assert_eq!(Marker::parse(&m.text()), Some(m.clone()));
            assert_eq!(Marker::parse(&format!(" {} ", m.text())), Some(m));
        }
        assert_eq!(Marker::parse("nianbao:other"), None);
        assert_eq!(Marker::parse("一、本年新收"), None);
    }

    #[test]
    fn identity_fields_round_trip_through_sheet_and_properties() {
        let mut id = IdFields::default();
        for (i, f) in IdField::ALL.into_iter().enumerate() {
            id.set(f, format!("v{i}"));
        }
        let rows = id.sheet_rows();
        assert_eq!(rows[0], (SHEET_MARK, SHEET_NOTE));
        let back = IdFields::from_sheet_rows(rows.iter().map(|(k, v)| (*k, v.to_string())));
        assert_eq!(back, id);
        let props: BTreeMap<String, String> = id
            .properties()
            .into_iter()
            .map(|(_, k, v)| (k.to_string(), v.to_string()))
            .collect();
        let back = IdFields::from_properties(&props).unwrap();
        for f in IdField::ALL {
            let expected = f.property().and(id.get(f));
            assert_eq!(back.get(f), expected, "{f:?}");
        }
        assert_eq!(IdFields::from_properties(&BTreeMap::new()), None);
    }

    #[test]
    fn deadlines_parse_and_end_at_midnight_in_beijing() {
        let d = Deadline::parse("2025-01-20").unwrap();
        assert_eq!(Deadline::parse("2025/1/20"), Some(d));
        assert_eq!(d.iso(), "2025-01-20");
        assert_eq!(d.chinese(), "2025 年 1 月 20 日");
        for bad in [
            "",
            "2025-02-30",
            "2025-13-01",
            "2025-01",
            "2025-01-20-1",
            "明天",
        ] {
            assert_eq!(Deadline::parse(bad), None, "{bad}");
        }
        assert!(Deadline::parse("2024-02-29").is_some());
        // 24:00 in Beijing is 16:00 UTC.
        assert_eq!(d.is_passed_at("2025-01-20T15:59:59Z"), Some(false));
        assert_eq!(d.is_passed_at("2025-01-20T16:00:00Z"), Some(true));
        assert_eq!(d.is_passed_at("2025-01-20T23:59:00+08:00"), Some(false));
        assert_eq!(d.is_passed_at("2025-01-21T00:01:00+08:00"), Some(true));
        assert_eq!(d.is_passed_at("2025-01-19"), Some(false));
        assert_eq!(d.is_passed_at("2025-01-21"), Some(true));
        // An .ods's dc:date has no offset: the saving computer's clock, in China.
        assert_eq!(d.is_passed_at("2025-01-20T23:59:00.123456789"), Some(false));
        assert_eq!(d.is_passed_at("2025-01-21T00:00:30"), Some(true));
        assert_eq!(d.is_passed_at("2025-12-31T00:00:00.5Z"), Some(true));
        assert_eq!(d.is_passed_at("not a time"), None);
        assert_eq!(
            beijing_time("2025-01-21T02:05:00Z").as_deref(),
            Some("2025-01-21 10:05")
        );
        assert_eq!(
            beijing_time("2024-12-31T20:00:00Z").as_deref(),
            Some("2025-01-01 04:00")
        );
    }

    #[test]
    fn the_handback_sentence_says_what_was_given() {
        let d = Deadline::parse("2025-01-20");
        let h = |deadline, contact: &str| Handback {
            deadline,
            contact: contact.into(),
        };
        assert_eq!(h(None, " ").sentence(), None);
        assert_eq!(
            h(d, "县政务公开办 0453-0000000").sentence().unwrap(),
            "请于 2025 年 1 月 20 日前交回本表，联系：县政务公开办 0453-0000000。"
        );
        assert!(h(d, "").sentence().unwrap().ends_with("前交回本表。"));
        assert!(h(None, "甲").sentence().unwrap().contains("联系：甲"));
    }

    #[test]
    fn the_cover_format_text_reads_back_as_its_id() {
        let known = [
            ("2019", "国办公开办函〔2019〕60号"),
            ("2021", "国办公开办函〔2021〕30号"),
        ];
        for (id, doc) in known {
            let text = cover_format_text(id, doc);
            assert_eq!(format_from_cover_text(&text, known).as_deref(), Some(id));
        }
        assert_eq!(
            format_from_cover_text("2021格式", known).as_deref(),
            Some("2021")
        );
        assert_eq!(format_from_cover_text("", known), None);
    }
}
