//! JSON text: a strict parser and a compact writer, with no dependencies.
//!
//! The parser follows the reference's parser (orjson): RFC 8259 only (no `NaN`, no comments,
//! no trailing commas), an empty document is an error, the last value wins for a duplicate key,
//! integers that do not fit in 64 bits become floats, lone surrogate escapes are rejected.
//! Nesting is bounded ([`MAX_DEPTH`]) so hostile input cannot exhaust the stack.
//!
//! The writer is compact and writes exactly the reference's bytes: non-ASCII as UTF-8, control
//! characters as `\u00xx`, floats with the shortest round-trip digits in orjson's layout
//! (`1.0`, `0.00001`, `1e-7`, `1e+16`), non-finite floats as `null`.

use crate::value::{Map, Number, Value};
use std::fmt;

/// Deepest nesting of arrays and objects the parser accepts.
pub const MAX_DEPTH: usize = 128;

/// Why a text is not valid JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseError {
    /// What is wrong.
    pub message: &'static str,
    /// Byte offset where the problem was found.
    pub offset: usize,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid JSON: {} at byte {}", self.message, self.offset)
    }
}

impl std::error::Error for ParseError {}

/// Parses one JSON document from bytes (surrounding whitespace allowed).
///
/// # Errors
/// [`ParseError`] for anything that is not exactly one valid JSON document.
pub fn from_slice(input: &[u8]) -> Result<Value, ParseError> {
    let mut p = Parser {
        s: input,
        text: std::str::from_utf8(input).ok(),
        i: 0,
        // Room for a typical message, so the stacks are not regrown while parsing it.
        items: Vec::with_capacity(16),
        members: Vec::with_capacity(16),
    };
    p.ws();
    if p.i >= p.s.len() {
        return Err(p.err("empty document"));
    }
    let v = p.value(0)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(p.err("trailing characters"));
    }
    Ok(v)
}

/// Parses one JSON document from a string.
///
/// # Errors
/// See [`from_slice`].
pub fn from_str(input: &str) -> Result<Value, ParseError> {
    from_slice(input.as_bytes())
}

struct Parser<'a> {
    s: &'a [u8],
    /// The input as text when it is valid UTF-8 as a whole (checked once, so that strings can
    /// be sliced from it without validating each one).
    text: Option<&'a str>,
    i: usize,
    /// Items of the arrays being parsed, innermost last (each array takes its own off the
    /// top when it closes, so every array is allocated once, at its final size).
    items: Vec<Value>,
    /// The same for object members.
    members: Vec<(String, Value)>,
}

/// Bytes that end a run of plain string bytes: `"`, `\` and control characters.
const STRING_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = true;
        b += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// Whether any of eight bytes is `"`, `\` or a control character (bytes ≥ 0x80 are not).
fn has_string_stop(chunk: u64) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    let control = chunk.wrapping_sub(LO * 0x20) & !chunk & HI;
    (control | zero(chunk ^ (LO * u64::from(b'"'))) | zero(chunk ^ (LO * u64::from(b'\\')))) != 0
}

impl Parser<'_> {
    fn err(&self, message: &'static str) -> ParseError {
        ParseError {
            message,
            offset: self.i,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn lit(&mut self, word: &'static [u8], v: Value) -> Result<Value, ParseError> {
        if self.s.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(self.err("invalid literal"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, ParseError> {
        match self.peek() {
            None => Err(self.err("unexpected end of input")),
            Some(b'n') => self.lit(b"null", Value::Null),
            Some(b't') => self.lit(b"true", Value::Bool(true)),
            Some(b'f') => self.lit(b"false", Value::Bool(false)),
            Some(b'"') => self.string().map(Value::String),
            Some(b'[') => self.array(depth + 1),
            Some(b'{') => self.object(depth + 1),
            Some(b'-' | b'0'..=b'9') => self.number().map(Value::Number),
            Some(_) => Err(self.err("unexpected character")),
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        self.i += 1;
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Value::Array(Vec::new()));
        }
        let base = self.items.len();
        loop {
            self.ws();
            let v = self.value(depth)?;
            self.items.push(v);
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Value::Array(self.items.split_off(base)));
                }
                _ => return Err(self.err("expected ',' or ']'")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        self.i += 1;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Value::Object(Map::new()));
        }
        let base = self.members.len();
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected a string key"));
            }
            let k = self.string()?;
            self.ws();
            if self.peek() != Some(b':') {
                return Err(self.err("expected ':'"));
            }
            self.i += 1;
            self.ws();
            let v = self.value(depth)?;
            self.members.push((k, v));
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    let entries = self.members.split_off(base);
                    return Ok(Value::Object(Map::from_entries(entries)));
                }
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let digits = self
            .s
            .get(self.i..self.i + 4)
            .ok_or_else(|| self.err("truncated \\u escape"))?;
        let mut n = 0u32;
        for &d in digits {
            let v = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return Err(self.err("invalid \\u escape")),
            };
            n = n * 16 + u32::from(v);
        }
        self.i += 4;
        Ok(n)
    }

    /// Advances over plain string bytes (not `"`, `\` or a control character).
    fn skip_plain(&mut self) {
        while let Some(chunk) = self.s.get(self.i..self.i + 8) {
            let word = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or_default());
            if has_string_stop(word) {
                break;
            }
            self.i += 8;
        }
        while let Some(&b) = self.s.get(self.i) {
            if STRING_STOP[usize::from(b)] {
                break;
            }
            self.i += 1;
        }
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.i += 1; // opening quote
        let first = self.i;
        // Fast path: no escape, one exact allocation.
        self.skip_plain();
        if self.peek() == Some(b'"') {
            // Both ends are at ASCII bytes, so on valid text they are char boundaries.
            let text = match self.text.and_then(|t| t.get(first..self.i)) {
                Some(t) => t,
                None => {
                    let run = self.s.get(first..self.i).unwrap_or_default();
                    std::str::from_utf8(run).map_err(|_| ParseError {
                        message: "invalid UTF-8 in string",
                        offset: first,
                    })?
                }
            };
            self.i += 1;
            return Ok(text.to_owned());
        }
        self.i = first;
        let mut out = String::new();
        loop {
            // Copy the longest run of plain bytes at once.
            let start = self.i;
            self.skip_plain();
            if self.i > start {
                let run = self.s.get(start..self.i).unwrap_or_default();
                out.push_str(std::str::from_utf8(run).map_err(|_| ParseError {
                    message: "invalid UTF-8 in string",
                    offset: start,
                })?);
            }
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = self.peek().ok_or_else(|| self.err("unterminated escape"))?;
                    self.i += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let cp = if (0xD800..0xDC00).contains(&hi) {
                                if self.s.get(self.i..self.i + 2) != Some(b"\\u") {
                                    return Err(self.err("lone surrogate in \\u escape"));
                                }
                                self.i += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("lone surrogate in \\u escape"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else if (0xDC00..0xE000).contains(&hi) {
                                return Err(self.err("lone surrogate in \\u escape"));
                            } else {
                                hi
                            };
                            out.push(
                                char::from_u32(cp).ok_or_else(|| self.err("invalid \\u escape"))?,
                            );
                        }
                        _ => return Err(self.err("invalid escape")),
                    }
                }
                Some(_) => return Err(self.err("control character in string")),
            }
        }
    }

    fn number(&mut self) -> Result<Number, ParseError> {
        let start = self.i;
        let mut float = false;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                while let Some(b'0'..=b'9') = self.peek() {
                    self.i += 1;
                }
            }
            _ => return Err(self.err("invalid number")),
        }
        if !matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            // Fast path for integers of up to 19 digits (they cannot overflow a u64).
            let digits = self.s.get(start..self.i).unwrap_or_default();
            let (neg, digits) = match digits.split_first() {
                Some((b'-', rest)) => (true, rest),
                _ => (false, digits),
            };
            if digits.len() <= 19 {
                let n = digits
                    .iter()
                    .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
                if !neg {
                    return Ok(Number::from_u64(n));
                }
                if let Ok(i) = i64::try_from(n) {
                    return Ok(Number::from_i64(-i));
                }
                if n == 1 << 63 {
                    return Ok(Number::from_i64(i64::MIN));
                }
            }
        }
        if self.peek() == Some(b'.') {
            float = true;
            self.i += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err("invalid number"));
            }
            while let Some(b'0'..=b'9') = self.peek() {
                self.i += 1;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            float = true;
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err("invalid number"));
            }
            while let Some(b'0'..=b'9') = self.peek() {
                self.i += 1;
            }
        }
        let text = self
            .s
            .get(start..self.i)
            .and_then(|b| std::str::from_utf8(b).ok())
            .ok_or_else(|| self.err("invalid number"))?;
        if !float {
            if let Ok(u) = text.parse::<u64>() {
                return Ok(Number::from_u64(u));
            }
            if let Ok(i) = text.parse::<i64>() {
                return Ok(Number::from_i64(i));
            }
        }
        let f: f64 = text.parse().map_err(|_| ParseError {
            message: "invalid number",
            offset: start,
        })?;
        if f.is_finite() {
            Ok(Number::from_f64(f))
        } else {
            Err(ParseError {
                message: "number out of range",
                offset: start,
            })
        }
    }
}

/// Compact JSON text of `v`, object members in their current order.
#[must_use]
pub fn to_string(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v, false);
    out
}

/// Compact JSON text of `v` with object members sorted by key at every depth.
#[must_use]
pub fn to_string_sorted(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v, true);
    out
}

/// Appends the compact JSON text of `v` to `out` (optionally sorting object members).
pub fn write_value(out: &mut String, v: &Value, sort_keys: bool) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, *n),
        Value::String(s) => write_str(out, s),
        Value::Array(a) => {
            out.push('[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item, sort_keys);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            if sort_keys {
                let mut members: Vec<(&String, &Value)> = m.iter().collect();
                members.sort_by(|a, b| a.0.cmp(b.0));
                write_members(out, members.into_iter(), sort_keys);
            } else {
                write_members(out, m.iter(), sort_keys);
            }
            out.push('}');
        }
    }
}

fn write_members<'a>(
    out: &mut String,
    members: impl Iterator<Item = (&'a String, &'a Value)>,
    sort_keys: bool,
) {
    for (i, (k, v)) in members.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, k);
        out.push(':');
        write_value(out, v, sort_keys);
    }
}

/// Appends a JSON string literal with the reference's escaping.
pub fn write_str(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    loop {
        // Skip plain bytes, eight at a time while possible.
        while let Some(chunk) = bytes.get(i..i + 8) {
            let word = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or_default());
            if has_string_stop(word) {
                break;
            }
            i += 8;
        }
        while bytes.get(i).is_some_and(|&b| !STRING_STOP[usize::from(b)]) {
            i += 1;
        }
        let Some(&b) = bytes.get(i) else {
            break;
        };
        let esc = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x09 => "\\t",
            0x0a => "\\n",
            0x0c => "\\f",
            0x0d => "\\r",
            _ => "",
        };
        // `i` is at an ASCII byte, so a char boundary.
        out.push_str(s.get(start..i).unwrap_or_default());
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(esc);
        }
        i += 1;
        start = i;
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}

/// Appends a number: integers in decimal, floats in the reference's layout.
pub fn write_number(out: &mut String, n: Number) {
    if let Some(f) = n.as_float() {
        write_f64(out, f);
    } else if let Some(u) = n.as_u64() {
        write_u64(out, u);
    } else if let Some(i) = n.as_i64() {
        out.push('-');
        write_u64(out, i.unsigned_abs());
    }
}

/// Appends the decimal digits of `u`.
fn write_u64(out: &mut String, mut u: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        if let Some(d) = digits.get_mut(start) {
            // `u % 10` is below 10.
            *d = b'0' + (u % 10) as u8;
        }
        u /= 10;
        if u == 0 {
            break;
        }
    }
    out.push_str(
        digits
            .get(start..)
            .and_then(|d| std::str::from_utf8(d).ok())
            .unwrap_or_default(),
    );
}

/// Appends a float exactly as orjson ≥ 3.11.7 writes it: shortest round-trip digits,
/// positional for decimal exponents in `(-5, 16]`, scientific (`1e-7`, `1.5e+16`) otherwise,
/// at least one fractional digit in positional form, `null` for NaN and infinities.
pub fn write_f64(out: &mut String, f: f64) {
    if !f.is_finite() {
        out.push_str("null");
        return;
    }
    if f == 0.0 {
        out.push_str(if f.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    // `{:e}` gives the shortest round-trip digits as `d.ddde<exp>`.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mantissa) = mantissa
        .strip_prefix('-')
        .map_or((false, mantissa), |m| (true, m));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let kk = exp + 1; // value = 0.d1d2... × 10^kk
    if neg {
        out.push('-');
    }
    let nd = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    if 0 < kk && kk <= 16 {
        if nd <= kk {
            out.push_str(&digits);
            for _ in nd..kk {
                out.push('0');
            }
            out.push_str(".0");
        } else {
            let split = usize::try_from(kk).unwrap_or(0);
            out.push_str(digits.get(..split).unwrap_or_default());
            out.push('.');
            out.push_str(digits.get(split..).unwrap_or_default());
        }
    } else if -5 < kk && kk <= 0 {
        out.push_str("0.");
        for _ in kk..0 {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        out.push_str(digits.get(..1).unwrap_or_default());
        if digits.len() > 1 {
            out.push('.');
            out.push_str(digits.get(1..).unwrap_or_default());
        }
        out.push('e');
        if exp > 0 {
            out.push('+');
        }
        out.push_str(&exp.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: f64) -> String {
        let mut s = String::new();
        write_f64(&mut s, x);
        s
    }

    #[test]
    fn integers_and_long_strings_round_trip_exactly() {
        for text in [
            "0",
            "-0",
            "7",
            "-7",
            "9223372036854775807",
            "-9223372036854775808",
            "-9223372036854775809",
            "9999999999999999999",
            "-9999999999999999999",
            "18446744073709551615",
            "18446744073709551616",
            "123456789012345678901234",
        ] {
            let v = from_str(text).unwrap();
            let want = if let Ok(u) = text.parse::<u64>() {
                Number::from_u64(u)
            } else if let Ok(i) = text.parse::<i64>() {
                Number::from_i64(i)
            } else {
                Number::from_f64(text.parse().unwrap())
            };
            assert_eq!(v, Value::Number(want), "{text}");
            let mut out = String::new();
            write_number(&mut out, want);
            assert_eq!(out, want.to_string(), "{text}");
            if want.as_float().is_none() {
                assert_eq!(out, if text == "-0" { "0" } else { text });
            }
        }
        // Runs longer than eight bytes with escapes and non-ASCII at every offset.
        for n in 0..20 {
            let plain = "abcdefghijklmnopqrstuvwxyz".get(..n).unwrap();
            for tail in [r#"\""#, r"\\", r"\u0001", "é", r"\n", "\u{7f}"] {
                let text = format!("\"{plain}{tail}{plain}\"");
                let v = from_str(&text).unwrap();
                let s = v.as_str().unwrap();
                let mut out = String::new();
                write_str(&mut out, s);
                assert_eq!(from_str(&out).unwrap(), v, "{text}");
            }
        }
    }

    #[test]
    fn floats_follow_the_reference_layout() {
        let cases = [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (100.0, "100.0"),
            (1e15, "1000000000000000.0"),
            (9.999e15, "9999000000000000.0"),
            (1e16, "1e+16"),
            (1.2345e16, "1.2345e+16"),
            (-0.0, "-0.0"),
            (123_456_789.123, "123456789.123"),
            (1e-5, "0.00001"),
            (1.5e-5, "0.000015"),
            (1e-6, "1e-6"),
            (1e-7, "1e-7"),
            (2.5e-310, "2.5e-310"),
            (5e-324, "5e-324"),
            (1.797_693_134_862_315_7e308, "1.7976931348623157e+308"),
            (1_234_567_890_123_456.7, "1234567890123456.8"),
            (f64::NAN, "null"),
            (-1.5, "-1.5"),
        ];
        for (x, want) in cases {
            assert_eq!(f(x), want, "{x:e}");
        }
    }

    #[test]
    fn parser_keeps_number_kinds_and_rejects_bad_input() {
        let v = from_str(r#"{"a":24,"b":24.0,"c":9007199254740993,"d":18446744073709551616,"e":-9223372036854775808}"#)
            .unwrap();
        assert_eq!(
            v.to_json(),
            r#"{"a":24,"b":24.0,"c":9007199254740993,"d":1.8446744073709552e+19,"e":-9223372036854775808}"#
        );
        for bad in [
            "",
            " ",
            "NaN",
            "[1,]",
            "{\"a\":1,}",
            "01",
            "1.",
            "\"\\ud800\"",
            "[1] x",
            "{'a':1}",
            "\"a\u{1}\"",
        ] {
            assert!(from_str(bad).is_err(), "{bad:?}");
        }
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(from_str(&deep).is_err());
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(from_str(&ok).is_ok());
    }

    /// Number edge cases, each checked against orjson's `loads` (then `dumps`).
    #[test]
    fn numbers_parse_like_orjson() {
        let ok = [
            ("-0", "0", false),
            ("-0.0", "-0.0", true),
            ("-0.0e-0", "-0.0", true),
            ("0e0", "0.0", true),
            ("1E+2", "100.0", true),
            ("1e-999999", "0.0", true),
            ("-1e-999999", "-0.0", true),
            ("-9223372036854775808", "-9223372036854775808", false),
            ("-9223372036854775809", "-9.223372036854776e+18", true),
            ("18446744073709551615", "18446744073709551615", false),
            ("18446744073709551616", "1.8446744073709552e+19", true),
        ];
        for (text, written, float) in ok {
            let v = from_str(text).unwrap();
            assert_eq!(v.to_json(), written, "{text}");
            assert_eq!(v.as_number().map(Number::is_float), Some(float), "{text}");
        }
        let long_exact = format!("1{}e-5000", "0".repeat(5000));
        assert_eq!(from_str(&long_exact).unwrap().to_json(), "1.0");
        let huge = "1".repeat(400);
        for bad in [
            "-",
            "1e",
            "1e+",
            "-a",
            "+1",
            ".5",
            "1.e5",
            "0x10",
            "1e999999",
            "-1e999",
            "[1e309]",
            huge.as_str(),
            &format!("-{huge}"),
        ] {
            assert!(from_str(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            from_str("1e999999").unwrap_err().message,
            "number out of range"
        );
    }

    #[test]
    fn strings_reject_bad_escapes_and_utf8() {
        for bad in [
            &b"\"\\x\""[..],
            b"\"\\u12\"",
            b"\"\\u12g4\"",
            b"\"\\udc00\"",
            b"\"\\ud800\\u0041\"",
            b"\"\\ud800x\"",
            b"\"\xff\"",
            b"\"\xc3\"",
            b"\"abc",
            b"\"\\",
            b"{\"a\" 1}",
            b"{1:1}",
            b"tru",
            b"nul",
        ] {
            assert!(
                from_slice(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(
            from_str(r#""\ud83d\ude00\u00e9""#).unwrap().as_str(),
            Some("😀é")
        );
        // Multi-byte characters around escapes: slicing stays on character boundaries.
        let s = "é\u{1}😀\"\\\u{1f}ж";
        let mut out = String::new();
        write_str(&mut out, s);
        assert_eq!(from_str(&out).unwrap().as_str(), Some(s));
    }

    #[test]
    fn duplicate_keys_keep_the_first_position_and_the_last_value() {
        assert_eq!(
            from_str(r#"{"a":1,"b":2,"a":3}"#).unwrap().to_json(),
            r#"{"a":3,"b":2}"#
        );
    }

    #[test]
    fn strings_escape_like_the_reference() {
        let v = from_str(r#""é\u0001\b\t\n\f\r\"\\/\u007f\u2028😀""#).unwrap();
        assert_eq!(
            v.to_json(),
            "\"é\\u0001\\b\\t\\n\\f\\r\\\"\\\\/\u{7f}\u{2028}😀\""
        );
    }
}
