//! nianbao (年报): a batch pipeline for China's annual report on government information
//! disclosure (政府信息公开工作年度报告).
//!
//! The stages, in the order data flows through them:
//!
//! 1. [`format`] — the official formats as data (tables, rows, columns, value kinds,
//!    consistency rules), loaded from `templates/formats/*.toml`. Every other stage takes
//!    its knowledge of the report from here.
//! 2. [`roster`] — the list of units (`code,name,parent_code,level`) and their hierarchy.
//! 3. [`template`] — format + roster → one Excel workbook per unit, with hidden keys so
//!    that a returned workbook can be read back with certainty.
//! 4. [`read`] — a returned file → raw cells (the only user of calamine).
//! 5. [`locate`] — raw cells → where each value of the report is, and whose report it is.
//! 6. [`normalise`] and [`validate`] — located cells → values, fixes and findings, by the
//!    format's rules ([`validate::Submission`] is what flows on).
//! 7. [`check`] — the stages 4–6 for one file; what `check` and `ingest` run per file.
//! 8. [`ingest`] — the batch: every file checked in parallel, attributed to a unit, one
//!    file per unit; submissions kept in an on-disk [`ingest::Store`].
//! 9. [`consolidate`] — the CSV outputs and roll-ups, streamed unit by unit.
//! 10. [`render`] and [`publish`] — reports per unit and per parent, the overview page,
//!     the roll-up workbook and correction workbooks.
//!
//! [`fill`] makes filled workbooks from a table of values (samples, other systems).
//!
//! [`cell`] is the only place that knows A1 addresses; [`model`] holds the small types
//! shared by every stage (unit codes, findings).

pub mod cell;
pub mod check;
pub mod consolidate;
pub mod fill;
pub mod format;
pub mod ingest;
pub mod locate;
pub mod model;
pub mod normalise;
pub mod output;
pub mod publish;
pub mod read;
pub mod render;
pub mod report;
pub mod roster;
pub mod template;
pub mod validate;
