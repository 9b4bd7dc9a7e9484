//! A4 pages of text and rules, written by krilla: the text in DejaVu Sans
//! (`assets/fonts`, embedded and subset), so any Latin, Greek or Cyrillic
//! name prints as typed; the file is PDF/A-3b, the archival form French
//! e-invoicing builds on. Layout is in whole points; floats appear only at
//! krilla's boundary.
#![allow(
    clippy::disallowed_types,
    reason = "krilla and skrifa place text in f32 points; amounts arrive formatted"
)]

use std::sync::OnceLock;

use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::{DateTime, Metadata};
use krilla::page::PageSettings;
use krilla::paint::Stroke;
use krilla::text::{Font as PdfFont, TextDirection};
use krilla::{Document, SerializeSettings};
use skrifa::MetadataProvider;

pub const A4_WIDTH: i32 = 595;
pub const A4_HEIGHT: i32 = 842;

const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Font {
    Regular,
    Bold,
}

impl Font {
    fn data(self) -> &'static [u8] {
        match self {
            Font::Regular => REGULAR,
            Font::Bold => BOLD,
        }
    }

    /// krilla's font, parsed once.
    fn pdf(self) -> PdfFont {
        static FONTS: OnceLock<(PdfFont, PdfFont)> = OnceLock::new();
        let (regular, bold) = FONTS.get_or_init(|| {
            let load = |f: Font| PdfFont::new(f.data().into(), 0).expect("the shipped font parses");
            (load(Font::Regular), load(Font::Bold))
        });
        match self {
            Font::Regular => regular.clone(),
            Font::Bold => bold.clone(),
        }
    }

    fn face(self) -> skrifa::FontRef<'static> {
        skrifa::FontRef::new(self.data()).expect("the shipped font parses")
    }
}

enum Op {
    Text {
        x: i32,
        y: i32,
        size: i32,
        font: Font,
        text: String,
    },
    Rule {
        from: (i32, i32),
        to: (i32, i32),
    },
}

/// One page's drawing, in PDF coordinates (from the bottom left).
#[derive(Default)]
pub struct Page {
    ops: Vec<Op>,
}

impl Page {
    pub fn text(&mut self, x: i32, y: i32, size: i32, font: Font, text: &str) {
        self.ops.push(Op::Text {
            x,
            y,
            size,
            font,
            text: printable(font, text),
        });
    }

    /// Text whose right edge is at `right`.
    pub fn text_right(&mut self, right: i32, y: i32, size: i32, font: Font, text: &str) {
        self.text(right - width_in(font, text, size), y, size, font, text);
    }

    pub fn rule(&mut self, x1: i32, y1: i32, x2: i32, y2: i32) {
        self.ops.push(Op::Rule {
            from: (x1, y1),
            to: (x2, y2),
        });
    }
}

/// `text` with the characters the font lacks as `?`: PDF/A forbids the
/// empty glyph a missing one would draw.
fn printable(font: Font, text: &str) -> String {
    let charmap = font.face().charmap();
    text.chars()
        .map(|c| match c {
            c if c.is_control() => ' ',
            c if charmap.map(c).is_some() => c,
            _ => '?',
        })
        .collect()
}

/// The advance width of `text` in the regular font at `size` points,
/// rounded up.
pub fn width(text: &str, size: i32) -> i32 {
    width_in(Font::Regular, text, size)
}

fn width_in(font: Font, text: &str, size: i32) -> i32 {
    let face = font.face();
    let charmap = face.charmap();
    let metrics = face.glyph_metrics(
        skrifa::instance::Size::new(size as f32),
        skrifa::instance::LocationRef::default(),
    );
    let w: f32 = text
        .chars()
        .filter_map(|c| charmap.map(c).or_else(|| charmap.map('?')))
        .filter_map(|g| metrics.advance_width(g))
        .sum();
    w.ceil() as i32
}

/// Splits `text` into lines no wider than `max` at `size`.
pub fn wrap(text: &str, size: i32, max: i32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split(' ') {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if width(&candidate, size) > max && !line.is_empty() {
                lines.push(std::mem::replace(&mut line, word.to_string()));
            } else {
                line = candidate;
            }
        }
        lines.push(line);
    }
    lines
}

/// The document's title, language (`en`, `fr`) and date of issue.
pub struct Info<'a> {
    pub title: &'a str,
    pub lang: &'a str,
    pub date: chrono::NaiveDate,
}

/// The pages as a PDF/A-3b file.
pub fn document(info: &Info, pages: &[Page]) -> Result<Vec<u8>, String> {
    use chrono::Datelike;
    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A3_B)
        .finish()
        .map_err(|e| format!("PDF/A configuration: {e:?}"))?;
    let mut doc = Document::new_with(SerializeSettings {
        configuration,
        enable_tagging: false,
        ..Default::default()
    });
    let date = DateTime::new(u16::try_from(info.date.year()).unwrap_or(2000))
        .month(info.date.month() as u8)
        .day(info.date.day() as u8);
    doc.set_metadata(
        Metadata::new()
            .title(info.title.to_string())
            .language(info.lang.to_string())
            .producer("billing-center".into())
            .creation_date(date),
    );
    let settings =
        PageSettings::from_wh(A4_WIDTH as f32, A4_HEIGHT as f32).ok_or("bad page size")?;
    // krilla measures from the top left; our pages from the bottom left.
    let at = |x: i32, y: i32| Point::from_xy(x as f32, (A4_HEIGHT - y) as f32);
    for page in pages {
        let mut p = doc.start_page_with(settings.clone());
        let mut surface = p.surface();
        for op in &page.ops {
            match op {
                Op::Text {
                    x,
                    y,
                    size,
                    font,
                    text,
                } => surface.draw_text(
                    at(*x, *y),
                    font.pdf(),
                    *size as f32,
                    text,
                    false,
                    TextDirection::Auto,
                ),
                Op::Rule { from, to } => {
                    let mut path = PathBuilder::new();
                    let (a, b) = (at(from.0, from.1), at(to.0, to.1));
                    path.move_to(a.x, a.y);
                    path.line_to(b.x, b.y);
                    if let Some(path) = path.finish() {
                        surface.set_fill(None);
                        surface.set_stroke(Some(Stroke {
                            width: 0.5,
                            ..Default::default()
                        }));
                        surface.draw_path(&path);
                        surface.set_stroke(None);
                    }
                }
            }
        }
        surface.finish();
        p.finish();
    }
    doc.finish().map_err(|e| format!("PDF: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_glyphs_become_question_marks_and_names_stay_as_typed() {
        assert_eq!(
            printable(Font::Regular, "Łukasz Ørsted Παπαδόπουλος"),
            "Łukasz Ørsted Παπαδόπουλος"
        );
        assert_eq!(printable(Font::Regular, "漢字 €"), "?? €");
    }

    #[test]
    fn a_document_is_pdf_a() {
        let mut p = Page::default();
        p.text(10, 800, 12, Font::Bold, "Facture Łukasz");
        p.rule(10, 790, 200, 790);
        let info = Info {
            title: "Invoice",
            lang: "en",
            date: chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap(),
        };
        let pdf = document(&info, &[p]).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("pdfaid:part"), "the PDF/A identification");
        assert!(text.contains("FontFile2"), "an embedded TrueType font");
    }

    #[test]
    fn wrap_keeps_lines_within_width() {
        let lines = wrap("one two three four five six seven eight nine ten", 10, 60);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| width(l, 10) <= 60 || !l.contains(' ')));
    }
}
