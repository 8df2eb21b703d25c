//! nianbao (年报): a batch pipeline for China's annual report on government information
//! disclosure (政府信息公开工作年度报告).
//!
//! The modules, in the order data flows through them. **Each module uses only modules
//! listed before it** (the `pub mod` lines below are in this order, and the test
//! `modules_only_use_modules_before_them` fails on a backward `crate::` path):
//!
//! Foundations, used by every stage:
//! 1. [`output`] — atomic writes, temporary files, the run record and the lock on the
//!    output directory (the only way anything is written).
//! 2. [`cell`] — A1 addresses (the only place that knows A1 notation).
//! 3. [`model`] — the small shared types: unit codes, value keys, places, findings,
//!    number → text.
//!    - [`quotes`] — numbers quoted in prose: Chinese numerals and the phrasing patterns
//!      the text ↔ table rule reads (pure).
//!
//! What a report is:
//! 4. [`format`](mod@format) — the official formats as data (tables, rows, columns, value kinds,
//!    consistency rules), loaded from `templates/formats/*.toml`.
//! 5. [`roster`] — the list of units and their hierarchy, and the one depth-first walk.
//! 6. [`identity`] — the contract between writer and reader: the hidden identity sheet,
//!    document properties, cover fields and key-column markers.
//! 7. [`layout`] — where everything goes on a sheet, a pure function of the format.
//!    - [`grid`] — a block's merged headers and row groups, one grid for every drawing.
//!
//! Writing workbooks and reading them back:
//! 8. [`template`] — format + roster → one workbook per unit (the only user of
//!    rust_xlsxwriter); also correction and roll-up workbooks.
//! 9. [`read`] — a returned file → raw cells (the only user of calamine); a Word report
//!    or a saved web page → its paragraphs and its tables as grids.
//! 10. [`normalise`] — raw values → numbers and text, with a record of every fix (pure).
//! 11. [`locate`] — raw cells → where each value of the report is, and whose it is (also
//!     by a report's title, or its name matched to the roster's).
//! 12. [`validate`] — located values + the format's rules → findings
//!     ([`validate::Submission`] is what flows on).
//! 13. [`check`] — stages 9–12 for one file: what `check` and `ingest` run per file.
//!
//! The batch and what it hands on:
//! 14. [`batch`] — every file checked in parallel, its status, the one attribution of
//!     files to units ([`batch::Attribution`]), the on-disk store, the summary.
//! 15. [`consolidate`] — the CSV outputs and roll-ups, and reading them back.
//! 16. [`package`] — the checked packages (`…_上报包.zip`) a run sends up to the level
//!     above, which reads them as [`batch::package`] inputs.
//! 17. [`render`] — reports, roll-up reports and the overview as text (pure).
//! 18. [`word`] — the same reports and roll-ups as Word documents (`.docx`, pure).
//! 19. [`publish`] — writes what `render`, `word` and `template` make into the output
//!     directory, and re-renders an earlier run from its CSVs.
//! 20. [`fill`] — filled workbooks from a table of values (samples, other systems).

// Stages return values and findings; only the binary prints.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod output;

pub mod cell;

pub mod model;

pub mod quotes;

pub mod format;

pub mod roster;

pub mod identity;

pub mod layout;

pub mod grid;

pub mod template;

pub mod read;

pub mod normalise;

pub mod locate;

pub mod validate;

pub mod check;

pub mod batch;

pub mod consolidate;

pub mod package;

pub mod render;

pub mod word;

pub mod publish;

pub mod fill;

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    /// The top-level modules in the order of their `pub mod` lines in this file.
    fn stated_order(root: &Path) -> Vec<String> {
        let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
        lib.lines()
            .filter_map(|l| l.strip_prefix("pub mod "))
            .map(|l| l.trim_end_matches(';').trim().to_string())
            .collect()
    }

    /// Every `.rs` file of a top-level module (`src/m.rs` or under `src/m/`).
    fn files_of(root: &Path, module: &str) -> Vec<PathBuf> {
        let file = root.join("src").join(format!("{module}.rs"));
        if file.is_file() {
            return vec![file];
        }
        walkdir::WalkDir::new(root.join("src").join(module))
            .into_iter()
            .filter_map(Result::ok)
            .map(|e| e.into_path())
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
            .collect()
    }

    /// The top-level modules a source text names through `crate::` paths (in `use`
    /// lines, grouped `use crate::{a, b::c}` lists, paths in code and doc links), not
    /// counting test code (from `#[cfg(test)]` on, or a file of tests).
    fn named_modules(text: &str, known: &[String]) -> Vec<String> {
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        let prefix = format!("{}::", "crate");
        let mut out = Vec::new();
        let mut push = |name: &str| {
            if known.iter().any(|k| k == name) && !out.iter().any(|o| o == name) {
                out.push(name.to_string());
            }
        };
        for (i, _) in code.match_indices(&prefix) {
            let rest = &code[i + prefix.len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let group = &group[..group.find(';').unwrap_or(group.len())];
                for item in group.split([',', '{', '}']) {
                    push(item.trim().split("::").next().unwrap_or("").trim());
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                push(&name);
            }
        }
        out
    }

    fn backward_imports(root: &Path) -> Vec<String> {
        let order = stated_order(root);
        let mut problems = Vec::new();
        for (at, module) in order.iter().enumerate() {
            for file in files_of(root, module) {
                if file.file_name().is_some_and(|n| n == "tests.rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&file).unwrap();
                for used in named_modules(&text, &order) {
                    let used_at = order.iter().position(|m| *m == used).unwrap();
                    if used_at > at {
                        problems.push(format!(
                            "{} uses {used}, which comes after {module} in src/lib.rs",
                            file.display()
                        ));
                    }
                }
            }
        }
        problems
    }

    #[test]
    fn modules_only_use_modules_before_them() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let order = stated_order(root);
        assert!(order.len() > 10, "{order:?}");
        for module in &order {
            assert!(!files_of(root, module).is_empty(), "no files for {module}");
        }
        let problems = backward_imports(root);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn the_order_check_sees_every_form_of_path() {
        let known: Vec<String> = ["cell", "model", "format", "batch", "render"]
            .map(String::from)
            .to_vec();
        let p = format!("{}::", "crate");
        let text = format!(
            "use {p}cell::CellRef;\nuse {p}{{model::Key, format}};\n/// see [`{p}batch`]\nlet x = {p}render::go();\n#[cfg(test)]\nuse {p}nothing;"
        );
        let mut found = named_modules(&text, &known);
        found.sort();
        assert_eq!(found, ["batch", "cell", "format", "model", "render"]);
    }
}
