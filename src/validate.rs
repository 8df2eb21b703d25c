//! Located cells + format rules → values and findings (pure).
//!
//! Every value is normalised (each fix recorded), computed totals are recomputed from
//! their parts (a formula saved without its result still works; a total the clerk
//! overwrote is caught by its rule), then every rule of the format definition runs
//! through one engine: the rule's kind says what to evaluate, its data says over which
//! cells. Nothing here knows a rule by its id.

use std::collections::BTreeMap;

use crate::format::{Check, Format, Formats, Key, RuleKind, Term};
use crate::locate::{label_path, Found, IdentifiedBy};
use crate::model::{
    clip, number_text, rule_ids, Finding, LabelPath, Level, Operand, Place, Spot, UnitCode,
    IDENTITY_CONFLICT,
};
use crate::normalise;
use crate::read::RawValue;

/// One unit's report as read from one workbook: the data model that flows on to
/// consolidation and rendering.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Submission {
    pub unit_code: String,
    pub unit_name: String,
    pub year: Option<i32>,
    /// The format the values are in (the workbook's layout).
    pub format_id: Option<String>,
    pub identified_by: IdentifiedBy,
    pub by_labels: bool,
    pub values: BTreeMap<Key, f64>,
    pub texts: BTreeMap<String, String>,
    pub cover: BTreeMap<String, String>,
    /// Where each value was found in the unit's workbook.
    pub places: BTreeMap<Key, Place>,
    pub findings: Vec<Finding>,
}

impl Submission {
    /// What a correction workbook needs of it ([`crate::template::correction_workbook`]).
    pub fn returned(&self) -> crate::template::Returned<'_> {
        crate::template::Returned {
            values: &self.values,
            texts: &self.texts,
            cover: &self.cover,
            findings: &self.findings,
        }
    }

    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.level == Level::Error)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.level == Level::Warning)
            .count()
    }

    pub fn fixes(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.level == Level::Fixed)
            .count()
    }
}

/// What a rule needs besides this year's workbook.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    /// Last year's values of the same unit, for the cross-year rules.
    pub previous: Option<&'a BTreeMap<Key, f64>>,
}

/// The id, level, message and hint of the first rule of a kind, if the format has one.
fn rule_of(format: &Format, pred: impl Fn(&RuleKind) -> bool) -> Option<&crate::format::Rule> {
    format.rules.iter().find(|r| pred(&r.kind))
}

/// Normalises and validates everything `locate` found.
pub fn validate(mut found: Found, formats: &Formats, ctx: Context<'_>) -> Submission {
    let mut sub = Submission {
        unit_code: found.identity.unit_code.clone(),
        unit_name: found.identity.unit_name.clone(),
        year: found.identity.year,
        format_id: found.format_id.clone(),
        identified_by: found.identity.by,
        by_labels: found.identity.by_labels,
        values: BTreeMap::new(),
        texts: BTreeMap::new(),
        cover: std::mem::take(&mut found.cover),
        places: BTreeMap::new(),
        findings: found.findings.clone(),
    };
    identity_findings(&found, &mut sub);
    let Some(format) = found
        .format_id
        .as_deref()
        .and_then(|id| formats.by_id(id).ok())
    else {
        return sub;
    };
    read_values(&found, format, &mut sub);
    for (code, located) in &found.texts {
        let (text, _) = normalise::text(located.raw.as_ref());
        sub.texts.insert(code.clone(), text);
    }
    run_rules(format, formats, &found, ctx, &mut sub);
    sub.findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    sub
}

fn identity_findings(found: &Found, sub: &mut Submission) {
    let id = &found.identity;
    // A report known by its title or file name (a Word report, a web page) has no code
    // to give: its name is matched to the roster's where there is one.
    let named =
        matches!(id.by, IdentifiedBy::Title | IdentifiedBy::FileName) && !id.unit_name.is_empty();
    if id.unit_code.is_empty() {
        // Nor is it reported twice: a name that fits several units is already.
        let reported = found.findings.iter().any(|f| f.rule == rule_ids::UNIT);
        if !named && !reported {
            sub.findings.push(Finding::file_level(
                Level::Error,
                rule_ids::UNIT,
                format!("无法确定填报单位代码（{}）", id.by.chinese()),
                "请使用下发给本单位的模板；空白模板请在封面填写单位名称和单位代码",
            ));
        }
    } else if UnitCode::parse(&id.unit_code).is_err() {
        // The roster is held to the same definition: a code it accepts is never refused.
        sub.findings.push(Finding {
            found: clip(&id.unit_code).into_owned(),
            expected: format!("单位代码{}", UnitCode::RULE),
            ..Finding::file_level(
                Level::Error,
                rule_ids::UNIT,
                "单位代码格式不对",
                "请按名册填写单位代码",
            )
        });
    }
    if id.conflicting() {
        let said: Vec<String> = id
            .claims
            .iter()
            .map(|c| format!("{}为 {}", c.source.chinese(), c.unit_text()))
            .collect();
        let mut units: Vec<String> = Vec::new();
        for c in &id.claims {
            let unit = c.unit_text();
            if !units.contains(&unit) {
                units.push(unit);
            }
        }
        sub.findings.push(Finding {
            found: units.join("、"),
            expected: "各处为同一单位".into(),
            ..Finding::file_level(
                Level::Error,
                rule_ids::IDENTITY,
                format!("{IDENTITY_CONFLICT}：{}", said.join("；")),
                "请使用下发给本单位的模板填写后报送；不要复制其他单位的工作簿，也不要改动封面和隐藏的标识",
            )
        });
    }
    match id.year {
        None => sub.findings.push(Finding::file_level(
            Level::Error,
            rule_ids::YEAR,
            "无法确定报告年度",
            "请使用下发的模板；空白模板请在封面填写报告年度",
        )),
        Some(y) if !crate::model::REPORT_YEARS.contains(&y) => sub.findings.push(Finding {
            found: y.to_string(),
            ..Finding::file_level(
                Level::Error,
                rule_ids::YEAR,
                format!(
                    "报告年度不合理（应在 {}–{} 之间）",
                    crate::model::REPORT_YEARS.start(),
                    crate::model::REPORT_YEARS.end()
                ),
                "请填写正确的报告年度，如 2024",
            )
        }),
        Some(_) => {}
    }
    if let Some(late) = late_finding(id) {
        sub.findings.push(late);
    }
}

/// Information (never an error or a warning, so never a change of status) when the
/// workbook was saved after the deadline its template gave, by the workbook's own
/// save time in Beijing. Nothing when either is unknown (an older template, an .xls).
fn late_finding(id: &crate::locate::Identity) -> Option<Finding> {
    let deadline = id.handback.deadline?;
    let saved = id.saved.as_deref()?;
    if deadline.is_passed_at(saved) != Some(true) {
        return None;
    }
    let when = crate::identity::beijing_time(saved).unwrap_or_else(|| saved.to_string());
    Some(Finding {
        found: format!("{when}（北京时间）"),
        expected: format!("{}前", deadline.chinese()),
        ..Finding::file_level(
            Level::Info,
            rule_ids::LATE,
            format!(
                "工作簿保存于 {when}，晚于模板规定的交回期限 {}（按工作簿文档属性中的修改时间）",
                deadline.chinese()
            ),
            "仅供参考，不影响受理",
        )
    })
}

/// Normalises every located number; recomputes totals whose cell carries no value.
fn read_values(found: &Found, format: &Format, sub: &mut Submission) {
    let kind_rule = rule_of(format, |k| matches!(k, RuleKind::ValueKind));
    let empty_rule = rule_of(format, |k| matches!(k, RuleKind::EmptyTable));
    let totals = format.totals();
    let mut blank_totals = Vec::new();
    // Totals that cannot be read, held back until it is known whether a part of theirs
    // could not be read either (then the part's finding is the one to act on).
    let mut unread_totals: Vec<(Key, Finding)> = Vec::new();
    // Gathered in key order (the order of `found.cells`) and made into maps at the end,
    // in one pass each, rather than looked up from the root for every cell.
    debug_assert!(
        sub.places.is_empty() && sub.values.is_empty(),
        "a new submission"
    );
    let mut places = Vec::with_capacity(found.cells.len());
    let mut values = Vec::with_capacity(found.cells.len());
    for (key, located) in &found.cells {
        let Some((kind, unit)) = format.kind_of(key) else {
            continue;
        };
        places.push((key.clone(), located.place.clone()));
        // A total showing a formula error (`#REF!`) over a part that is not on the sheet
        // any more: the row's deletion is reported once, where it is (L-1).
        let broken = matches!(located.raw, Some(RawValue::Error(_)))
            && located.formula.is_none()
            && lost_part(format, found, key);
        if broken {
            continue;
        }
        if (located.raw.is_none() || located.formula.is_some()) && totals.contains_key(key) {
            // A formula saved without its result (empty, or its text): computed below from
            // its parts, not the clerk's doing.
            blank_totals.push(key.clone());
            continue;
        }
        // Described only for a finding: most cells have none.
        let what = || format.describe(key);
        let number = match (&located.raw, &located.formula) {
            // A formula saved without its result, computed against its sheet (or not).
            (Some(RawValue::Error(text)), Some(value)) => {
                normalise::formula_number(text, value, kind)
            }
            (raw, _) => normalise::number(raw.as_ref(), kind, unit),
        };
        match number {
            Ok(n) => {
                values.push((key.clone(), n.value));
                if let Some(fix) = n.fix {
                    let rule = match (&located.raw, empty_rule) {
                        (None, Some(r)) => r.id.clone(),
                        _ => rule_ids::NORMALISED.to_string(),
                    };
                    let f = Finding {
                        found: located
                            .raw
                            .as_ref()
                            .map(|r| clip(&r.display()).into_owned())
                            .unwrap_or_default(),
                        expected: number_text(n.value),
                        ..cell_finding(
                            sub,
                            format,
                            key,
                            &located.place,
                            (Level::Fixed, &rule),
                            format!("{}：{fix}", what()),
                        )
                    };
                    sub.findings.push(f);
                }
            }
            Err(problem) => {
                let (id, level) = kind_rule.map_or(("V-1".to_string(), Level::Error), |r| {
                    (r.id.clone(), r.level)
                });
                let found_text = located
                    .raw
                    .as_ref()
                    .map(|r| clip(&r.display()).into_owned())
                    .unwrap_or_default();
                let f = Finding {
                    found: found_text,
                    expected: match problem {
                        normalise::NumberProblem::TooLarge => {
                            format!("不超过 {}", number_text(crate::model::MAX_VALUE))
                        }
                        _ => kind.describe(unit),
                    },
                    hint: problem.hint(kind, unit),
                    ..cell_finding(
                        sub,
                        format,
                        key,
                        &located.place,
                        (level, &id),
                        format!("{}：{}", what(), problem.message()),
                    )
                };
                if totals.contains_key(key) {
                    unread_totals.push((key.clone(), f));
                } else {
                    sub.findings.push(f);
                }
            }
        }
    }
    sub.places = places.into_iter().collect();
    sub.values = values.into_iter().collect();
    // A locked total showing an error (`#VALUE!`, `#DIV/0!`) because a part of it does:
    // one mistake, reported once, at the part the clerk typed.
    for (key, f) in unread_totals {
        if parts_read(format, sub, &key) {
            sub.findings.push(f);
        }
    }
    // Formulas saved without their results: computed from their parts.
    let blank: std::collections::BTreeSet<Key> = blank_totals.into_iter().collect();
    format.fill_totals(&mut sub.values, Some(&blank));
    // A total that still shows what the spreadsheet computed from the cells as typed
    // (text counted as 0, as Excel's SUM does) is an untouched formula: recompute it from
    // the normalised parts. Only a total that matches neither was typed over. Totals are
    // taken in dependency order, so a total of totals (表三's grand total) compares with
    // its parts already recomputed.
    for key in format.totals_in_order() {
        let parts = &totals[key];
        let (Some(located), Some(&value)) = (found.cells.get(key), sub.values.get(key)) else {
            continue;
        };
        if blank.contains(key) {
            continue;
        }
        let as_typed: f64 = parts.iter().map(|p| raw_number(found, p)).sum();
        let normalised: Option<f64> = parts.iter().map(|p| sub.values.get(p)).sum();
        let Some(normalised) = normalised else {
            continue;
        };
        if (value - as_typed).abs() < 0.005 && (value - normalised).abs() >= 0.005 {
            sub.values.insert(key.clone(), normalised);
            let message = format!("{}：合计按修正后的数字重新计算", format.describe(key));
            let f = Finding {
                found: number_text(value),
                expected: number_text(normalised),
                ..cell_finding(
                    sub,
                    format,
                    key,
                    &located.place,
                    (Level::Fixed, rule_ids::NORMALISED),
                    message,
                )
            };
            sub.findings.push(f);
        }
    }
    // A total over a part that could not be read is unknown too: rules that use it are
    // not evaluated, so one bad cell is reported once, where it is.
    loop {
        let unknown: Vec<Key> = totals
            .iter()
            .filter(|(k, parts)| {
                sub.values.contains_key(*k) && parts.iter().any(|p| !sub.values.contains_key(p))
            })
            .map(|(k, _)| k.clone())
            .collect();
        if unknown.is_empty() {
            break;
        }
        for k in unknown {
            sub.values.remove(&k);
        }
    }
}

/// Every part a total adds up, directly or through the totals among its parts, once each.
fn all_parts<'f>(format: &'f Format, key: &'f Key) -> Vec<&'f Key> {
    let totals = format.totals();
    let mut todo = vec![key];
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    while let Some(k) = todo.pop() {
        if !seen.insert(k) {
            continue;
        }
        for part in totals.get(k).into_iter().flatten() {
            out.push(part);
            todo.push(part);
        }
    }
    out
}

/// Whether a total depends, directly or through other totals, on a cell that could not
/// be located.
fn lost_part(format: &Format, found: &Found, key: &Key) -> bool {
    all_parts(format, key)
        .into_iter()
        .any(|part| !found.cells.contains_key(part))
}

/// Whether every part a total adds up (through the totals among them) was read as a
/// number: if not, the total cannot be right either, and is not reported again.
fn parts_read(format: &Format, sub: &Submission, key: &Key) -> bool {
    let totals = format.totals();
    all_parts(format, key)
        .into_iter()
        .filter(|part| !totals.contains_key(*part))
        .all(|part| sub.values.contains_key(part))
}

/// A cell's value as a spreadsheet's SUM sees it: numbers (and formulas, computed)
/// count, anything else is 0.
fn raw_number(found: &Found, key: &Key) -> f64 {
    let Some(located) = found.cells.get(key) else {
        return 0.0;
    };
    match (&located.raw, &located.formula) {
        (_, Some(Ok(x))) => *x,
        (Some(RawValue::Number(x)), _) => *x,
        _ => 0.0,
    }
}

/// A finding about one value, at its cell; the caller adds what was found and expected.
fn cell_finding(
    sub: &Submission,
    format: &Format,
    key: &Key,
    place: &Place,
    (level, rule): (Level, &str),
    message: String,
) -> Finding {
    Finding {
        unit_code: sub.unit_code.clone(),
        unit_name: sub.unit_name.clone(),
        sheet: place.sheet.clone(),
        spot: Spot::cell(Some(key.clone()), place.at),
        about: label_path(format, key),
        keys: vec![key.clone()],
        ..Finding::file_level(level, rule, message, "")
    }
}

/// The sheet and spot of a finding at `place` (none: about no cell in particular);
/// `key` is the value the cell holds, if the finding is about it.
fn placed(place: Option<&Place>, key: Option<&Key>) -> (String, Spot) {
    match place {
        Some(p) => (p.sheet.clone(), Spot::cell(key.cloned(), p.at)),
        None => (String::new(), Spot::None),
    }
}

fn run_rules(
    format: &Format,
    formats: &Formats,
    found: &Found,
    ctx: Context<'_>,
    sub: &mut Submission,
) {
    for (index, rule) in format.rules.iter().enumerate() {
        let push = |sub: &mut Submission,
                    keys: Vec<Key>,
                    (sheet, spot): (String, Spot),
                    about: Option<LabelPath>,
                    message: String,
                    found_v: String,
                    expected: String| {
            let f = Finding {
                found: found_v,
                expected,
                unit_code: sub.unit_code.clone(),
                unit_name: sub.unit_name.clone(),
                sheet,
                spot,
                about,
                keys,
                ..Finding::file_level(
                    rule.level,
                    &rule.id,
                    message,
                    rule.hint.clone().unwrap_or_default(),
                )
            };
            sub.findings.push(f);
        };
        match &rule.kind {
            RuleKind::ValueKind | RuleKind::Total | RuleKind::Compare => {}
            RuleKind::FormatYear => {
                let (Some(year), Some(id)) = (sub.year, &found.identity.format_id) else {
                    continue;
                };
                if let Ok(right) = formats.for_year(year) {
                    if &right.id != id && formats.by_id(id).is_ok_and(|f| !f.applies_to(year)) {
                        push(
                            sub,
                            Vec::new(),
                            placed(None, None),
                            None,
                            format!(
                                "{}：{year} 年度应使用 {} 格式，本工作簿是 {id} 格式的模板",
                                rule.message, right.id
                            ),
                            id.clone(),
                            right.id.clone(),
                        );
                    }
                }
            }
            RuleKind::EmptyTable => {
                for table in &format.tables {
                    let prefix = format!("{}.", table.code);
                    let cells: Vec<&Key> = found
                        .cells
                        .keys()
                        .filter(|k| k.as_str().starts_with(&prefix))
                        .collect();
                    // A total's formula saved without its result is no more filled in.
                    let totals = format.totals();
                    let blank = |k: &Key| {
                        let l = &found.cells[k];
                        l.raw.is_none() || (l.formula.is_some() && totals.contains_key(k))
                    };
                    if !cells.is_empty() && cells.iter().all(|k| blank(k)) {
                        // Where the table starts; the warning is about none of its values.
                        let place = found.cells[cells[0]].place.clone();
                        push(
                            sub,
                            Vec::new(),
                            placed(Some(&place), None),
                            Some(LabelPath {
                                table: format!("表{}", table.number),
                                ..LabelPath::default()
                            }),
                            format!("表{}：{}", table.number, rule.message),
                            "全部空白".into(),
                            "填写数字，没有的填 0".into(),
                        );
                    }
                }
            }
            RuleKind::Magnitude { max } => {
                let big: Vec<(Key, f64)> = sub
                    .values
                    .iter()
                    .filter(|(k, v)| {
                        v.abs() > *max
                            && format
                                .kind_of(k)
                                .is_some_and(|(kind, _)| kind != crate::format::Kind::Amount)
                    })
                    .map(|(k, v)| (k.clone(), *v))
                    .collect();
                for (key, v) in big {
                    let place = sub.places.get(&key).cloned();
                    push(
                        sub,
                        vec![key.clone()],
                        placed(place.as_ref(), Some(&key)),
                        label_path(format, &key),
                        format!("{}：{}", format.describe(&key), rule.message),
                        number_text(v),
                        format!("不超过 {}", number_text(*max)),
                    );
                }
            }
            RuleKind::TextRequired { section } => {
                // A section without a heading (the opening paragraph) is found only by the
                // template's keys: when they are lost, it is not known to be empty.
                let headed = format
                    .sections
                    .iter()
                    .any(|x| &x.code == section && x.number.is_some());
                if (!headed && !found.texts.contains_key(section)) || found.missing_text_sheet {
                    continue;
                }
                if sub.texts.get(section).is_none_or(|t| t.trim().is_empty()) {
                    let place = found.texts.get(section).map(|l| l.place.clone());
                    push(
                        sub,
                        Vec::new(),
                        placed(place.as_ref(), None),
                        None,
                        rule.message.clone(),
                        "空白".into(),
                        "填写内容".into(),
                    );
                }
            }
            RuleKind::StrayNumber => {
                for stray in &found.strays {
                    let cells = stray
                        .cells
                        .iter()
                        .map(|(at, _)| crate::model::SpotCell {
                            key: None,
                            sheet: None,
                            at: *at,
                        })
                        .collect();
                    let typed: Vec<&str> = stray.cells.iter().map(|(_, v)| v.as_str()).collect();
                    let mut message = format!("{}：{}", stray.about.text(), rule.message);
                    if stray.more_cells > 0 {
                        message.push_str(&format!("（这一行另有 {} 个数字）", stray.more_cells));
                    }
                    if stray.more_rows > 0 {
                        message.push_str(&format!(
                            "（另有 {} 行也有这样的数字，未逐一列出）",
                            stray.more_rows
                        ));
                    }
                    push(
                        sub,
                        Vec::new(),
                        (stray.sheet.clone(), Spot::Cells { cells }),
                        Some(stray.about.clone()),
                        message,
                        typed.join("、"),
                        "不填数字".into(),
                    );
                }
            }
            // A document has no cover to fill in.
            RuleKind::CoverRequired { .. } if found.document => {}
            RuleKind::CoverRequired { fields } => {
                for code in fields {
                    if sub.cover.get(code).is_some_and(|v| !v.trim().is_empty()) {
                        continue;
                    }
                    // The cover's fields are the template's; a definition naming another
                    // is shown by its code.
                    let label = crate::identity::COVER_FIELDS
                        .iter()
                        .find(|f| f.code == code.as_str())
                        .map_or(code.as_str(), |f| f.label);
                    let place = found.cover_places.get(code);
                    push(
                        sub,
                        Vec::new(),
                        placed(place, None),
                        Some(LabelPath {
                            row: label.to_string(),
                            ..LabelPath::default()
                        }),
                        format!("封面「{label}」{}", rule.message),
                        "空白".into(),
                        "填写内容".into(),
                    );
                }
            }
            RuleKind::TextQuotes { figures, guards } => {
                for q in misquoted(format, figures, guards, sub) {
                    let figure = &figures[q.quoted.figure];
                    let place = found.texts.get(&q.section.code).map(|l| l.place.clone());
                    let cells = figure
                        .keys
                        .iter()
                        .map(|k| label_path(format, k).map_or_else(|| k.to_string(), |p| p.text()))
                        .collect::<Vec<_>>()
                        .join("加");
                    let heading = q.section.heading();
                    push(
                        sub,
                        figure.keys.clone(),
                        placed(place.as_ref(), None),
                        Some(LabelPath {
                            table: heading.clone(),
                            ..LabelPath::default()
                        }),
                        format!(
                            "{}：「{}」写{} {}，而{cells}为 {}",
                            rule.message,
                            clip(&q.quoted.sentence),
                            figure.label,
                            q.quoted.number_text,
                            number_text(q.table)
                        ),
                        q.quoted.number_text.clone(),
                        format!("等于表格中的 {}", number_text(q.table)),
                    );
                }
            }
            RuleKind::RequiresAny {
                when_nonzero,
                require_any,
            } => {
                let nonzero = |k: &Key| sub.values.get(k).is_some_and(|v| *v != 0.0);
                if when_nonzero.iter().any(nonzero) && !require_any.iter().any(nonzero) {
                    let (key, place) = require_any
                        .iter()
                        .find_map(|k| Some((k, sub.places.get(k)?.clone())))
                        .unzip();
                    let paths: Vec<LabelPath> = require_any
                        .iter()
                        .filter_map(|k| label_path(format, k))
                        .collect();
                    let found_v = when_nonzero
                        .iter()
                        .map(|k| number_text(sub.values.get(k).copied().unwrap_or(0.0)))
                        .collect::<Vec<_>>()
                        .join("、");
                    push(
                        sub,
                        require_any.clone(),
                        placed(place.as_ref(), key),
                        LabelPath::common(&paths),
                        rule.message.clone(),
                        found_v,
                        "填写件数和金额".into(),
                    );
                }
            }
        }
        for check in format.checks.iter().filter(|c| c.rule == index) {
            evaluate(format, check, ctx, sub);
        }
    }
}

/// The rules comparing with last year (`previous` terms) run again on a submission made
/// elsewhere: a unit carried up in a package, checked by the township with its own
/// last year or none, is checked against `previous`, what the level above was given, as
/// if its workbook had been read here. Its earlier findings of those rules go: one
/// comparison, one finding.
pub fn cross_year(format: &Format, previous: &BTreeMap<Key, f64>, sub: &mut Submission) {
    let cross = cross_year_checks(format);
    let rules: std::collections::HashSet<&str> = cross
        .iter()
        .map(|c| format.rules[c.rule].id.as_str())
        .collect();
    sub.findings.retain(|f| !rules.contains(f.rule.as_str()));
    let ctx = Context {
        previous: Some(previous),
    };
    for check in cross {
        evaluate(format, check, ctx, sub);
    }
    sub.findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

/// The checks that compare with last year's figures.
fn cross_year_checks(format: &Format) -> Vec<&crate::format::Check> {
    format
        .checks
        .iter()
        .filter(|c| c.needs_previous())
        .collect()
}

/// Forgets where the values were found in the unit's workbook, once validated (the
/// findings carry their own places), except this year's cells of the cross-year checks:
/// a level above that is given last year ([`cross_year`]) names them as reading the
/// workbook would. A dozen places, not every cell's.
pub fn keep_cross_year_places(format: Option<&Format>, sub: &mut Submission) {
    let keys: std::collections::HashSet<&Key> = format
        .map(cross_year_checks)
        .unwrap_or_default()
        .into_iter()
        .flat_map(|c| c.lhs.iter().chain(&c.rhs))
        .filter(|t| !t.previous)
        .map(|t| &t.key)
        .collect();
    sub.places.retain(|k, _| keys.contains(k));
}

/// A number the text quotes that differs from the tables' figure it names.
struct Misquote<'f> {
    section: &'f crate::format::Section,
    quoted: crate::quotes::Quoted,
    /// The figure as the tables give it.
    table: f64,
}

/// TX-2 over every text section, in the format's order. A figure one of whose values is
/// missing is not compared (its loss is reported where it happened).
fn misquoted<'f>(
    format: &'f Format,
    figures: &[crate::format::QuotedFigure],
    guards: &[String],
    sub: &Submission,
) -> Vec<Misquote<'f>> {
    let patterns: Vec<&[crate::quotes::Pattern]> =
        figures.iter().map(|f| f.patterns.as_slice()).collect();
    let mut out = Vec::new();
    for section in &format.sections {
        let Some(text) = sub.texts.get(&section.code) else {
            continue;
        };
        for quoted in crate::quotes::find(text, &patterns, guards, sub.year) {
            let table: Option<f64> = figures[quoted.figure]
                .keys
                .iter()
                .map(|k| sub.values.get(k).copied())
                .sum();
            if let Some(table) = table.filter(|t| (t - quoted.number).abs() > 0.005) {
                out.push(Misquote {
                    section,
                    quoted,
                    table,
                });
            }
        }
    }
    out
}

/// One equation or inequality. Skipped when a value it needs is missing (already
/// reported where it went missing) or needs last year's figures that were not given.
fn evaluate(format: &Format, check: &Check, ctx: Context<'_>, sub: &mut Submission) {
    let rule = &format.rules[check.rule];
    // A comparison over computed totals only (表三's 总计 column) follows from the same
    // comparison over their parts plus the totals' own rules; reporting it again would
    // only repeat those findings.
    let totals = format.totals();
    if !check.is_total
        && check
            .lhs
            .iter()
            .chain(&check.rhs)
            .all(|t| totals.contains_key(&t.key))
    {
        return;
    }
    let value = |t: &Term| -> Option<f64> {
        if t.previous {
            ctx.previous?.get(&t.key).copied()
        } else {
            sub.values.get(&t.key).copied()
        }
    };
    let side = |terms: &[Term]| -> Option<f64> { terms.iter().map(value).sum() };
    let (Some(lhs), Some(rhs)) = (side(&check.lhs), side(&check.rhs)) else {
        return;
    };
    if check.op.holds(lhs, rhs) {
        return;
    }
    let sheet = check
        .lhs
        .iter()
        .chain(&check.rhs)
        .filter(|t| !t.previous)
        .find_map(|t| sub.places.get(&t.key))
        .map(|p| p.sheet.clone())
        .unwrap_or_default();
    // This year's values by their cells (named with their sheet when not on the
    // finding's), last year's in words.
    let operands = |terms: &[Term]| -> Vec<Operand> {
        terms
            .iter()
            .map(|t| {
                let key = t.key.clone();
                match (t.previous, sub.places.get(&t.key)) {
                    (true, _) => Operand::Previous {
                        label: format.describe(&t.key),
                        key,
                    },
                    (false, Some(p)) => Operand::Cell {
                        key,
                        sheet: (p.sheet != sheet).then(|| p.sheet.clone()),
                        at: p.at,
                    },
                    (false, None) => Operand::Key { key },
                }
            })
            .collect()
    };
    let not = match check.op {
        crate::format::Op::Eq => "≠",
        crate::format::Op::Le => ">",
    };
    let (found, expected, about) = if check.is_total {
        // About the total's own cell.
        (
            number_text(lhs),
            number_text(rhs),
            label_path(format, &check.lhs[0].key),
        )
    } else {
        // About what the terms have in common: a column (表三「自然人」列) or a row.
        let paths: Vec<LabelPath> = check
            .lhs
            .iter()
            .chain(&check.rhs)
            .filter_map(|t| label_path(format, &t.key))
            .collect();
        (
            number_text(lhs),
            format!("{} {}", check.op.expected_word(), number_text(rhs)),
            LabelPath::common(&paths),
        )
    };
    let spot = Spot::Compare {
        lhs: operands(&check.lhs),
        op: not.to_string(),
        rhs: operands(&check.rhs),
        total: check.is_total,
    };
    let scope = if check.scope.is_empty() {
        String::new()
    } else {
        format!("{}：", check.scope)
    };
    sub.findings.push(Finding {
        level: rule.level,
        rule: rule.id.clone(),
        unit_code: sub.unit_code.clone(),
        unit_name: sub.unit_name.clone(),
        file: String::new(),
        sheet,
        spot,
        about,
        message: format!(
            "{scope}{}（相差 {}）",
            rule.message,
            number_text((lhs - rhs).abs())
        ),
        found,
        expected,
        hint: rule.hint.clone().unwrap_or_default(),
        keys: check
            .lhs
            .iter()
            .chain(&check.rhs)
            .filter(|t| !t.previous)
            .map(|t| t.key.clone())
            .collect(),
    });
}
