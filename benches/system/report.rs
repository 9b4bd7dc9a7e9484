//! `bench/RESULTS.md`: every figure next to its baseline and budget.

use std::fmt::Write;

pub struct Row {
    pub what: String,
    pub figure: String,
    pub baseline: String,
    pub ratio: String,
    pub budget: String,
    pub verdict: Option<bool>,
}

#[derive(Default)]
pub struct Report {
    pub rows: Vec<Row>,
    pub sections: Vec<(String, String)>,
}

impl Report {
    pub fn row(
        &mut self,
        what: impl Into<String>,
        figure: impl Into<String>,
        baseline: impl Into<String>,
        ratio: impl Into<String>,
        budget: impl Into<String>,
        verdict: Option<bool>,
    ) {
        let row = Row {
            what: what.into(),
            figure: figure.into(),
            baseline: baseline.into(),
            ratio: ratio.into(),
            budget: budget.into(),
            verdict,
        };
        eprintln!(
            "bench: {} = {} (baseline {}; ratio {}; budget {}) {}",
            row.what,
            row.figure,
            row.baseline,
            row.ratio,
            row.budget,
            verdict_text(row.verdict)
        );
        self.rows.push(row);
    }

    pub fn section(&mut self, title: impl Into<String>, body: impl Into<String>) {
        self.sections.push((title.into(), body.into()));
    }

    pub fn markdown(&self, header: &str) -> String {
        let mut s = String::from(header);
        s.push_str("\n| what | figure | baseline (same run) | ratio | budget | |\n|---|---|---|---|---|---|\n");
        for r in &self.rows {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                r.what,
                r.figure,
                r.baseline,
                r.ratio,
                r.budget,
                verdict_text(r.verdict)
            );
        }
        for (title, body) in &self.sections {
            let _ = write!(s, "\n## {title}\n\n{body}\n");
        }
        s
    }
}

fn verdict_text(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "within budget",
        Some(false) => "OVER BUDGET",
        None => "",
    }
}

/// `a / b` as a percentage with one decimal, in integers.
pub fn percent(a: u128, b: u128) -> (u128, String) {
    let tenths = a * 1000 / b.max(1);
    (tenths, format!("{}.{} %", tenths / 10, tenths % 10))
}
