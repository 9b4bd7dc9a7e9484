//! The one rule for a line of text a person types (a name, an address
//! line): trimmed, at most so many characters, no control character (a
//! tab, a newline or an escape has no place in one line).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineError {
    TooLong,
    ControlCharacter,
}

/// `text` trimmed, if it fits in `max` characters without a control one;
/// empty is allowed (the caller decides whether it may be).
pub fn line(text: &str, max: usize) -> Result<&str, LineError> {
    let t = text.trim();
    if t.chars().count() > max {
        Err(LineError::TooLong)
    } else if t.chars().any(char::is_control) {
        Err(LineError::ControlCharacter)
    } else {
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(line("  Pat  ", 3), Ok("Pat"));
        assert_eq!(line("Pats", 3), Err(LineError::TooLong));
        assert_eq!(line("a\tb", 10), Err(LineError::ControlCharacter));
        assert_eq!(line("   ", 3), Ok(""));
    }
}
