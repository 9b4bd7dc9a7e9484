//! A small PDF writer (whole-point coordinates: no floats in this crate): A4 pages of text and rules in the standard
//! Helvetica fonts (WinAnsi encoding, so French accents and € print without
//! embedding a font). Enough for invoices, and no dependency to keep up.

use std::fmt::Write;

pub const A4_WIDTH: i32 = 595;
pub const A4_HEIGHT: i32 = 842;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Font {
    Regular,
    Bold,
}

impl Font {
    fn resource(self) -> &'static str {
        match self {
            Font::Regular => "F1",
            Font::Bold => "F2",
        }
    }
}

/// One page's content stream.
#[derive(Default)]
pub struct Page {
    ops: String,
}

impl Page {
    pub fn text(&mut self, x: i32, y: i32, size: i32, font: Font, text: &str) {
        let _ = writeln!(
            self.ops,
            "BT /{} {size} Tf {x} {y} Td ({}) Tj ET",
            font.resource(),
            encode(text)
        );
    }

    /// Text whose right edge is at `right`.
    pub fn text_right(&mut self, right: i32, y: i32, size: i32, font: Font, text: &str) {
        self.text(right - width(text, size), y, size, font, text);
    }

    pub fn rule(&mut self, x1: i32, y1: i32, x2: i32, y2: i32) {
        let _ = writeln!(self.ops, "0.5 w {x1} {y1} m {x2} {y2} l S");
    }
}

/// Approximate Helvetica advance width of `text` at `size` points (AFM
/// widths for the characters an invoice uses; an average for the rest).
pub fn width(text: &str, size: i32) -> i32 {
    let units: u32 = text
        .chars()
        .map(|c| match c {
            ' ' | '\u{a0}' | '\u{202f}' | ',' | '.' | ':' | ';' | '/' | 'i' | 'j' | 'l' | '!'
            | '|' | '\'' => 278,
            'f' | 't' | 'I' | '(' | ')' | '-' | '[' | ']' | 'r' => 333,
            '0'..='9' | '€' | '$' | '£' | '¥' | '#' | '_' => 556,
            'm' | 'M' | 'W' => 833,
            'w' | '%' => 889,
            'A'..='Z' => 667,
            _ => 556,
        })
        .sum();
    (units as i32 * size) / 1000
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

/// A PDF string literal body: WinAnsi bytes, non-ASCII as octal escapes.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let byte = win_ansi(c);
        match byte {
            b'(' | b')' | b'\\' => {
                out.push('\\');
                out.push(byte as char);
            }
            32..=126 => out.push(byte as char),
            _ => {
                let _ = write!(out, "\\{byte:03o}");
            }
        }
    }
    out
}

fn win_ansi(c: char) -> u8 {
    match c {
        ' '..='~' => c as u8,
        '\u{a0}'..='\u{ff}' => c as u32 as u8,
        '\u{202f}' => 0xa0,
        '€' => 0x80,
        '‚' => 0x82,
        '„' => 0x84,
        '…' => 0x85,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        'œ' => 0x9c,
        'Œ' => 0x8c,
        'Ÿ' => 0x9f,
        _ => b'?',
    }
}

/// Serializes pages into a complete PDF file.
pub fn document(title: &str, pages: &[Page]) -> Vec<u8> {
    let mut objects: Vec<String> = Vec::new();
    // 1 catalog, 2 page tree, 3-4 fonts, 5 info, then page + content pairs.
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", 6 + 2 * i))
        .collect();
    objects.push("<< /Type /Catalog /Pages 2 0 R >>".into());
    objects.push(format!(
        "<< /Type /Pages /Kids [{}] /Count {} >>",
        kids.join(" "),
        pages.len()
    ));
    for base in ["Helvetica", "Helvetica-Bold"] {
        objects.push(format!(
            "<< /Type /Font /Subtype /Type1 /BaseFont /{base} /Encoding /WinAnsiEncoding >>"
        ));
    }
    objects.push(format!(
        "<< /Title ({}) /Producer (billing-center) >>",
        encode(title)
    ));
    for (i, page) in pages.iter().enumerate() {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {A4_WIDTH} {A4_HEIGHT}] \
             /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
            7 + 2 * i
        ));
        objects.push(format!(
            "<< /Length {} >>\nstream\n{}endstream",
            page.ops.len(),
            page.ops
        ));
    }
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        let _ = write!(out, "{} 0 obj\n{body}\nendobj\n", i + 1);
    }
    let xref = out.len();
    let _ = write!(out, "xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for o in offsets {
        let _ = writeln!(out, "{o:010} 00000 n ");
    }
    let _ = write!(
        out,
        "trailer\n<< /Size {} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_and_win_ansi_encoded() {
        assert_eq!(encode("a(b)\\"), "a\\(b\\)\\\\");
        assert_eq!(encode("é €"), "\\351 \\200");
        assert_eq!(encode("漢"), "?");
    }

    #[test]
    fn xref_offsets_point_at_objects() {
        let mut p = Page::default();
        p.text(10, 10, 12, Font::Bold, "Hello");
        let pdf = document("t", &[p]);
        let text = String::from_utf8(pdf).unwrap();
        let xref_at: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(text[xref_at..].starts_with("xref"));
        let first: usize = text[xref_at..].lines().nth(3).unwrap()[..10]
            .parse()
            .unwrap();
        assert!(text[first..].starts_with("1 0 obj"));
    }

    #[test]
    fn wrap_keeps_lines_within_width() {
        let lines = wrap("one two three four five six seven eight nine ten", 10, 60);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| width(l, 10) <= 60 || !l.contains(' ')));
    }
}
