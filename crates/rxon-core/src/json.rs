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
use std::cell::Cell;
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
    let mut p = Parser::new(input);
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

/// The parser's state; the model decoders' fast path drives it directly (`model::fast`).
pub(crate) struct Parser<'a> {
    s: &'a [u8],
    /// The input as text when it is valid UTF-8 as a whole (checked once, so that strings can
    /// be sliced from it without validating each one), else empty (no slice of it exists: a
    /// string starts at byte 1 at the earliest).
    text: &'a str,
    i: usize,
    /// Items of the arrays being parsed, innermost last (each array takes its own off the
    /// top when it closes, so every array is allocated once, at its final size).
    items: Vec<Value>,
    /// The same for object members.
    members: Vec<(String, Value)>,
}

/// Parser stacks of at most this capacity are kept for the thread's next parse.
const REUSED_STACK: usize = 256;

type Stacks = (Vec<Value>, Vec<(String, Value)>);

thread_local! {
    /// The last parser's (emptied) stacks, so that a parse does not allocate them again.
    static STACKS: Cell<Option<Stacks>> = const { Cell::new(None) };
}

impl Drop for Parser<'_> {
    fn drop(&mut self) {
        if self.items.capacity() <= REUSED_STACK && self.members.capacity() <= REUSED_STACK {
            let mut items = std::mem::take(&mut self.items);
            let mut members = std::mem::take(&mut self.members);
            // Left over after an error.
            items.clear();
            members.clear();
            // `try_with`: the thread may be tearing down its locals.
            let _ = STACKS.try_with(|s| s.set(Some((items, members))));
        }
    }
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

/// The bytes among eight (little-endian) that are `"`, `\` or a control character (bytes
/// ≥ 0x80 are not): the lowest set bit is at the first such byte (bits above it may be set
/// spuriously).
fn string_stops(chunk: u64) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    // Flipping bit 1 turns `"` (0x22) into 0x20 and keeps control characters below 0x20, so
    // one "byte below 0x21" test finds both; a "zero byte" test finds `\`. Each test flags
    // exactly the bytes before its first hit, so the lowest bit of either is exact.
    let q = chunk ^ (LO * 0x02);
    let b = chunk ^ (LO * u64::from(b'\\'));
    (q.wrapping_sub(LO * 0x21) & !q | b.wrapping_sub(LO) & !b) & HI
}

/// Whether any of eight bytes is `"`, `\` or a control character (bytes ≥ 0x80 are not).
fn has_string_stop(chunk: u64) -> bool {
    string_stops(chunk) != 0
}

/// Eight bytes as a little-endian word (zero if `bytes` is shorter).
fn word8(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(
        bytes
            .get(..8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .unwrap_or_default(),
    )
}

/// Four bytes as a little-endian word (zero if `bytes` is shorter).
fn word4(bytes: &[u8]) -> u64 {
    u64::from(u32::from_le_bytes(
        bytes
            .get(..4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .unwrap_or_default(),
    ))
}

/// The end of the run of plain string bytes (not `"`, `\` or a control character) from `i`,
/// eight bytes at a time.
#[inline(always)]
fn plain_end(s: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = s.get(i..i + 8) {
        let stops = string_stops(word8(chunk));
        if stops != 0 {
            // The lowest flagged byte is the first stop.
            return i + (stops.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = s.get(i) {
        if STRING_STOP[usize::from(b)] {
            break;
        }
        i += 1;
    }
    i
}

/// Powers of ten exact as `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Reads the ASCII digits of `s` from `i` on, appending them to `mantissa` (wrapping; callers
/// bound the digit count); returns the mantissa and where the digits end.
#[inline(always)]
fn digit_run(s: &[u8], mut i: usize, mut mantissa: u64) -> (u64, usize) {
    while let Some(&b) = s.get(i) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d));
        i += 1;
    }
    (mantissa, i)
}

impl<'a> Parser<'a> {
    /// A parser at the start of `input`.
    pub(crate) fn new(input: &'a [u8]) -> Self {
        let (items, members) = STACKS.with(Cell::take).unwrap_or_else(|| {
            // Room for a typical message, so the stacks are not regrown while parsing it.
            (Vec::with_capacity(16), Vec::with_capacity(16))
        });
        Parser {
            s: input,
            text: std::str::from_utf8(input).unwrap_or_default(),
            i: 0,
            items,
            members,
        }
    }

    /// Whether the whole input has been read.
    pub(crate) fn at_end(&self) -> bool {
        self.i >= self.s.len()
    }

    /// Steps over one byte (the caller has peeked it).
    pub(crate) fn bump(&mut self) {
        self.i += 1;
    }

    /// Reads the literal `null` (`None` if the text is not exactly that).
    pub(crate) fn null(&mut self) -> Option<()> {
        self.lit(b"null", Value::Null).ok().map(drop)
    }

    /// A string without escapes, borrowed from the input (the cursor at its opening quote).
    /// `None`, with the cursor left anywhere, for a string with escapes or invalid text: the
    /// caller then gives up.
    #[inline]
    pub(crate) fn plain_str(&mut self) -> Option<&'a str> {
        self.i += 1; // opening quote
        let first = self.i;
        self.skip_plain();
        if self.peek() != Some(b'"') {
            return None;
        }
        let end = self.i;
        self.i += 1;
        // Both ends are at ASCII bytes, so on valid text they are char boundaries.
        match self.text.get(first..end) {
            Some(t) => Some(t),
            None => std::str::from_utf8(self.s.get(first..end)?).ok(),
        }
    }

    fn err(&self, message: &'static str) -> ParseError {
        ParseError {
            message,
            offset: self.i,
        }
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// Skips whitespace and peeks at the byte after it (compact text: no loop).
    #[inline(always)]
    pub(crate) fn peek_ws(&mut self) -> Option<u8> {
        match self.s.get(self.i) {
            Some(&b) if b > b' ' => Some(b),
            _ => {
                self.ws();
                self.peek()
            }
        }
    }

    pub(crate) fn ws(&mut self) {
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

    pub(crate) fn value(&mut self, depth: usize) -> Result<Value, ParseError> {
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
        if self.peek_ws() == Some(b']') {
            self.i += 1;
            return Ok(Value::Array(Vec::new()));
        }
        let base = self.items.len();
        loop {
            // Scalars built straight into the item (no value round trip through memory).
            let v = match self.peek_ws() {
                Some(b'"') => Value::String(self.string()?),
                Some(b'-' | b'0'..=b'9') => Value::Number(self.number()?),
                _ => self.value(depth)?,
            };
            self.items.push(v);
            match self.peek_ws() {
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
        if self.peek_ws() == Some(b'}') {
            self.i += 1;
            return Ok(Value::Object(Map::new()));
        }
        let base = self.members.len();
        // The keys' summaries, so that telling whether they are distinct takes no second pass.
        let (mut seen, mut clash) = (0u64, false);
        loop {
            if self.peek_ws() != Some(b'"') {
                return Err(self.err("expected a string key"));
            }
            let k = self.string()?;
            let bit = crate::value::key_bit(&k);
            clash |= seen & bit != 0;
            seen |= bit;
            if self.peek_ws() != Some(b':') {
                return Err(self.err("expected ':'"));
            }
            self.i += 1;
            // Scalars built straight into the member (no value round trip through memory).
            let v = match self.peek_ws() {
                Some(b'"') => Value::String(self.string()?),
                Some(b'-' | b'0'..=b'9') => Value::Number(self.number()?),
                _ => self.value(depth)?,
            };
            self.members.push((k, v));
            match self.peek_ws() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    let entries = self.members.split_off(base);
                    return Ok(Value::Object(Map::from_entries_summarized(entries, clash)));
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
        self.i = plain_end(self.s, self.i);
    }

    /// A string (the cursor at its opening quote).
    #[inline(never)]
    pub(crate) fn string(&mut self) -> Result<String, ParseError> {
        self.i += 1; // opening quote
        let first = self.i;
        // Fast path: no escape in valid text, one exact allocation.
        self.i = plain_end(self.s, first);
        if self.peek() == Some(b'"')
            && let Some(t) = self.text.get(first..self.i)
        {
            self.i += 1;
            return Ok(t.to_owned());
        }
        self.string_slow(first)
    }

    /// The rest of [`Self::string`]: escapes, or text that is not valid UTF-8 as a whole.
    /// The cursor is at the end of the run of plain bytes that starts at `first`.
    #[inline(never)]
    fn string_slow(&mut self, first: usize) -> Result<String, ParseError> {
        if self.peek() == Some(b'"') {
            // Both ends are at ASCII bytes, so on valid text they are char boundaries.
            let text = match self.text.get(first..self.i) {
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
        // The text up to the closing quote bounds the decoded length (an escape is never
        // shorter than what it stands for): one allocation.
        let stop = self.i;
        let mut end = stop;
        while let Some(b'\\') = self.s.get(end) {
            self.i = end + 2;
            self.skip_plain();
            end = self.i;
        }
        self.i = stop;
        let mut out = String::with_capacity(end.saturating_sub(first).min(self.s.len()));
        // The first run of plain bytes has been read already.
        let mut start = first;
        loop {
            // Copy the longest run of plain bytes at once.
            if self.i > start {
                // Both ends are at ASCII bytes, so on valid text they are char boundaries.
                let run = match self.text.get(start..self.i) {
                    Some(t) => t,
                    None => std::str::from_utf8(self.s.get(start..self.i).unwrap_or_default())
                        .map_err(|_| ParseError {
                            message: "invalid UTF-8 in string",
                            offset: start,
                        })?,
                };
                out.push_str(run);
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
            start = self.i;
            self.skip_plain();
        }
    }

    #[inline(always)]
    pub(crate) fn number(&mut self) -> Result<Number, ParseError> {
        match self.number_fast() {
            Some(n) => Ok(n),
            None => self.number_general(),
        }
    }

    /// The common numbers: an integer of at most 15 digits, or one with a fraction (at most
    /// 15 digits in all) and no exponent. `None` (cursor unmoved) for anything else, which
    /// [`Self::number_general`] then reads (or rejects). The results are that function's:
    /// the same exact integers, and for a fraction the same single correctly rounded
    /// division of the exact mantissa by an exact power of ten.
    #[inline(always)]
    fn number_fast(&mut self) -> Option<Number> {
        let s = self.s;
        let mut i = self.i;
        let neg = s.get(i) == Some(&b'-');
        i += usize::from(neg);
        let int_start = i;
        // Wrapping: a run too long to be exact is refused below.
        let (mut mantissa, end) = digit_run(s, i, 0);
        i = end;
        let int_digits = i - int_start;
        if int_digits == 0 || int_digits > 15 || (int_digits > 1 && s.get(int_start) == Some(&b'0'))
        {
            return None;
        }
        match s.get(i) {
            Some(b'.') => {
                i += 1;
                let frac_start = i;
                (mantissa, i) = digit_run(s, i, mantissa);
                let frac_digits = i - frac_start;
                if frac_digits == 0
                    || int_digits + frac_digits > 15
                    || matches!(s.get(i), Some(b'e' | b'E'))
                {
                    return None;
                }
                #[allow(clippy::cast_precision_loss, reason = "exact below 10^15 < 2^53")]
                let f = mantissa as f64 / POW10.get(frac_digits)?;
                self.i = i;
                Some(Number::from_f64(if neg { -f } else { f }))
            }
            Some(b'e' | b'E') => None,
            _ => {
                self.i = i;
                if neg {
                    // Below 10^15: fits an i64.
                    Some(Number::from_i64(-i64::try_from(mantissa).ok()?))
                } else {
                    Some(Number::from_u64(mantissa))
                }
            }
        }
    }

    /// [`Self::number`] for any number.
    #[inline(never)]
    fn number_general(&mut self) -> Result<Number, ParseError> {
        let start = self.i;
        let s = self.s;
        let mut i = start;
        let neg = s.get(i) == Some(&b'-');
        if neg {
            i += 1;
        }
        // The significant digits read so far (exact while there are at most 19 of them).
        let mut mantissa = 0u64;
        let mut digits = 0usize;
        match s.get(i) {
            Some(b'0') => {
                i += 1;
                digits = 1;
            }
            Some(b'1'..=b'9') => {
                while let Some(&d @ b'0'..=b'9') = s.get(i) {
                    mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
                    digits += 1;
                    i += 1;
                }
            }
            _ => {
                self.i = i;
                return Err(self.err("invalid number"));
            }
        }
        let mut float = false;
        if !matches!(s.get(i), Some(b'.' | b'e' | b'E')) {
            self.i = i;
            // Integers of up to 19 digits cannot overflow a u64.
            if digits <= 19 {
                let n = mantissa;
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
        let mut frac_digits = 0usize;
        if s.get(i) == Some(&b'.') {
            float = true;
            i += 1;
            if !matches!(s.get(i), Some(b'0'..=b'9')) {
                self.i = i;
                return Err(self.err("invalid number"));
            }
            while let Some(&d @ b'0'..=b'9') = s.get(i) {
                mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
                frac_digits += 1;
                i += 1;
            }
        }
        // The written exponent, saturated (only small ones take the fast path below).
        let mut exp = 0i64;
        if let Some(b'e' | b'E') = s.get(i) {
            float = true;
            i += 1;
            let exp_neg = s.get(i) == Some(&b'-');
            if let Some(b'+' | b'-') = s.get(i) {
                i += 1;
            }
            if !matches!(s.get(i), Some(b'0'..=b'9')) {
                self.i = i;
                return Err(self.err("invalid number"));
            }
            while let Some(&d @ b'0'..=b'9') = s.get(i) {
                exp = (exp * 10 + i64::from(d - b'0')).min(1 << 32);
                i += 1;
            }
            if exp_neg {
                exp = -exp;
            }
        }
        self.i = i;
        // Clinger's fast path: an exact mantissa below 2^53 times or over an exact power of
        // ten is one correctly rounded operation, so the same float as the full parse.
        if float && digits + frac_digits <= 19 && mantissa <= 1 << 53 {
            let e10 = exp - i64::try_from(frac_digits).unwrap_or(i64::MAX);
            if let Some(&p) = usize::try_from(e10.unsigned_abs())
                .ok()
                .and_then(|e| POW10.get(e))
            {
                #[allow(clippy::cast_precision_loss, reason = "exact below 2^53")]
                let m = mantissa as f64;
                let f = if e10 >= 0 { m * p } else { m / p };
                return Ok(Number::from_f64(if neg { -f } else { f }));
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

/// Whether `bytes` has a byte that a JSON string literal must escape (`"`, `\` or a control
/// character), checked eight bytes at a time.
#[inline]
fn needs_escape(bytes: &[u8]) -> bool {
    let n = bytes.len();
    if n >= 8 {
        let mut chunks = bytes.chunks_exact(8);
        if chunks.by_ref().any(|c| has_string_stop(word8(c))) {
            return true;
        }
        // The last eight bytes (overlapping the chunks) cover the rest.
        return !chunks.remainder().is_empty()
            && has_string_stop(word8(bytes.get(n - 8..).unwrap_or_default()));
    }
    let word = match bytes {
        [] => return false,
        // Two overlapping four-byte words cover four to seven bytes.
        _ if n >= 4 => word4(bytes) | word4(bytes.get(n - 4..).unwrap_or_default()) << 32,
        // One to three bytes, padded with spaces (plain bytes).
        [first, .., last] | [first @ last] => {
            let mid = bytes.get(n / 2).copied().unwrap_or(b' ');
            u64::from(*first)
                | u64::from(mid) << 8
                | u64::from(*last) << 16
                | 0x0020_2020_2020_u64 << 24
        }
    };
    has_string_stop(word)
}

/// Whether the keys are in code point order (the order 1.0b17 writes). Compares the first
/// bytes inline: keys almost always differ there.
pub(crate) fn keys_sorted<'a>(mut keys: impl Iterator<Item = &'a String>) -> bool {
    let Some(mut prev) = keys.next() else {
        return true;
    };
    for k in keys {
        let ordered = match (prev.as_bytes().first(), k.as_bytes().first()) {
            (Some(a), Some(b)) if a != b => a < b,
            _ => prev <= k,
        };
        if !ordered {
            return false;
        }
        prev = k;
    }
    true
}

/// Appends a JSON string literal with the reference's escaping.
#[inline]
pub fn write_str(out: &mut String, s: &str) {
    if needs_escape(s.as_bytes()) {
        write_escaped(out, s);
    } else {
        // The common case: nothing to escape, one copy.
        out.push('"');
        out.push_str(s);
        out.push('"');
    }
}

/// Appends an object member's key and the colon after it (`"key":`).
#[inline(always)]
pub(crate) fn write_key(out: &mut String, k: &str) {
    if needs_escape(k.as_bytes()) {
        write_escaped(out, k);
        out.push(':');
    } else {
        out.push('"');
        out.push_str(k);
        out.push_str("\":");
    }
}

/// [`write_str`] for a string with something to escape.
#[inline(never)]
fn write_escaped(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push('"');
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

/// `"00"` to `"99"`, for writing integers two digits at a time.
const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// The ASCII digit for `d` (below 10).
#[inline(always)]
#[allow(clippy::cast_possible_truncation, reason = "d is below 10")]
fn digit(d: u64) -> char {
    char::from(b'0' + (d % 10) as u8)
}

/// Appends the decimal digits of `u`.
#[inline]
fn write_u64(out: &mut String, u: u64) {
    // Most integers on the wire are short: pushed straight, most significant first.
    if u < 10_000 {
        if u >= 1000 {
            out.push(digit(u / 1000));
        }
        if u >= 100 {
            out.push(digit(u / 100));
        }
        if u >= 10 {
            out.push(digit(u / 10));
        }
        out.push(digit(u));
        return;
    }
    write_u64_long(out, u);
}

/// [`write_u64`] for `u` of five digits or more.
#[inline(never)]
#[allow(clippy::cast_possible_truncation, reason = "remainders below 100")]
fn write_u64_long(out: &mut String, mut u: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    while u >= 10 {
        let pair = usize::from((u % 100) as u8) * 2;
        u /= 100;
        start -= 2;
        if let (Some(d), Some(p)) = (
            digits.get_mut(start..start + 2),
            DIGIT_PAIRS.get(pair..pair + 2),
        ) {
            d.copy_from_slice(p);
        }
    }
    if u > 0 {
        start -= 1;
        if let Some(d) = digits.get_mut(start) {
            *d = b'0' + u as u8;
        }
    }
    // ASCII digits: one append.
    out.push_str(std::str::from_utf8(digits.get(start..).unwrap_or_default()).unwrap_or_default());
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
    let mut digit_buf = [0u8; 24];
    let a = f.abs();
    let Some((nd_usize, exp)) =
        short_digits(a, &mut digit_buf).or_else(|| fmt_digits(a, &mut digit_buf))
    else {
        // Cannot happen (the buffer fits every f64); keep the output well-formed regardless.
        out.push_str("null");
        return;
    };
    let neg = f.is_sign_negative();
    // ASCII digits, pushed as chars (no UTF-8 check needed).
    let digits = digit_buf.get(..nd_usize).unwrap_or_default();
    let push = |out: &mut String, d: &[u8]| {
        for &b in d {
            out.push(char::from(b));
        }
    };
    let kk = exp + 1; // value = 0.d1d2... × 10^kk
    if neg {
        out.push('-');
    }
    let nd = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    if 0 < kk && kk <= 16 {
        if nd <= kk {
            push(out, digits);
            for _ in nd..kk {
                out.push('0');
            }
            out.push_str(".0");
        } else {
            let split = usize::try_from(kk).unwrap_or(0);
            push(out, digits.get(..split).unwrap_or_default());
            out.push('.');
            push(out, digits.get(split..).unwrap_or_default());
        }
    } else if -5 < kk && kk <= 0 {
        out.push_str("0.");
        for _ in kk..0 {
            out.push('0');
        }
        push(out, digits);
    } else {
        push(out, digits.get(..1).unwrap_or_default());
        if digits.len() > 1 {
            out.push('.');
            push(out, digits.get(1..).unwrap_or_default());
        }
        out.push('e');
        if exp > 0 {
            out.push('+');
        } else {
            out.push('-');
        }
        write_u64(out, u64::from(exp.unsigned_abs()));
    }
}

/// The shortest round-trip digits of a finite `a > 0` and the decimal exponent of the first
/// one (`a = d.ddd × 10^exp`), as `{:e}` gives them, via the standard formatter.
fn fmt_digits(a: f64, buf: &mut [u8; 24]) -> Option<(usize, i32)> {
    // At most 23 bytes (`2.2250738585072014e-308`), formatted on the stack.
    let mut sci = StackText::default();
    fmt::Write::write_fmt(&mut sci, format_args!("{a:e}")).ok()?;
    let sci = sci.as_bytes();
    let e_at = sci.iter().position(|&b| b == b'e')?;
    let (mantissa, exp_text) = sci.split_at(e_at);
    let exp: i32 = std::str::from_utf8(exp_text.get(1..)?).ok()?.parse().ok()?;
    let mut n = 0;
    for &b in mantissa.iter().filter(|b| b.is_ascii_digit()) {
        *buf.get_mut(n)? = b;
        n += 1;
    }
    Some((n, exp))
}

/// The same digits as [`fmt_digits`] for the common floats with few significant digits
/// (`0.42`, `2.5`, `132.9`), without the formatter; `None` for the others.
///
/// For the smallest `k` at which the integer `m` nearest to `a × 10^k` satisfies
/// `m / 10^k == a`, the decimal `m × 10^-k` is the shortest that reads back as `a`: the
/// division of exact operands (`m < 2^51`, `10^k` exact for `k ≤ 22`) is correctly rounded,
/// so the test is exactly "parses to `a`"; a shorter decimal that parses to `a` would lie
/// within half an ulp of `a`, and `a × 10^k` (off by far less than 1/2 below 2^51) would then
/// round to it; and with `m < 2^51` the spacing `10^-k` exceeds the ulp of `a`, so no other
/// decimal of that length parses to `a` (the closest-candidate tie-break never arises), and
/// `m / 10^k` has too few bits to be a midpoint between two floats.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    reason = "p and m are non-negative and below 2^51, where these conversions are exact"
)]
fn short_digits(a: f64, buf: &mut [u8; 24]) -> Option<(usize, i32)> {
    const LIMIT: f64 = 2_251_799_813_685_248.0; // 2^51
    const TOLERANCE: f64 = 1.0 / 1_099_511_627_776.0; // 2^-40
    let mut scale = 1.0f64;
    for k in 0..=17i32 {
        let p = a * scale;
        if p >= LIMIT {
            return None;
        }
        // Round half up (`p + 0.5` is exact below 2^51); `round` may be a library call.
        let m = ((p + 0.5) as u64) as f64;
        // A decimal that reads back as `a` is within about `p × 2^-52` of `p`; the cheap
        // distance test (with a wide margin) skips the division for the others.
        if m != 0.0 && (m - p).abs() <= p * TOLERANCE && m / scale == a {
            let mut m = m as u64;
            let mut zeros = 0;
            while m.is_multiple_of(10) {
                m /= 10;
                zeros += 1;
            }
            let mut tmp = [0u8; 20];
            let mut start = tmp.len();
            while m > 0 {
                start -= 1;
                *tmp.get_mut(start)? = b'0' + (m % 10) as u8;
                m /= 10;
            }
            let digits = tmp.get(start..)?;
            buf.get_mut(..digits.len())?.copy_from_slice(digits);
            let n = i32::try_from(digits.len()).ok()?;
            return Some((digits.len(), n + zeros - 1 - k));
        }
        scale *= 10.0;
    }
    None
}

/// A small text buffer on the stack, for formatting a float without allocating.
struct StackText {
    buf: [u8; 40],
    len: usize,
}

impl Default for StackText {
    fn default() -> Self {
        Self {
            buf: [0; 40],
            len: 0,
        }
    }
}

impl StackText {
    fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let slot = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
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

    /// The digits without the formatter are the formatter's, on random bit patterns, on
    /// decimals with few digits, and around powers of ten.
    #[test]
    fn short_float_digits_match_the_formatter() {
        let mut next = crate::fuzzing::test_rng(0x9E37_79B9_7F4A_7C15);
        let mut floats = Vec::new();
        for _ in 0..200_000 {
            floats.push(f64::from_bits(next()));
            let m = next() % 10_u64.pow(1 + u32::try_from(next() % 16).unwrap());
            let k = i32::try_from(next() % 24).unwrap() - 4;
            floats.push(m as f64 / 10f64.powi(k));
            floats.push(format!("{m}e-{}", next() % 20).parse().unwrap());
        }
        for e in -30..30 {
            let p = 10f64.powi(e);
            floats.extend([
                p,
                p * 1.5,
                f64::from_bits(p.to_bits() + 1),
                f64::from_bits(p.to_bits() - 1),
            ]);
        }
        floats.extend([
            0.1 + 0.2,
            2.251_799_813_685_247e15,
            4_503_599_627_370_495.5,
            5e-324,
            0.3,
        ]);
        let mut short = 0;
        for f in floats {
            let a = f.abs();
            if !a.is_finite() || a == 0.0 {
                continue;
            }
            let (mut x, mut y) = ([0u8; 24], [0u8; 24]);
            if let Some(got) = short_digits(a, &mut x) {
                short += 1;
                let want = fmt_digits(a, &mut y).unwrap();
                assert_eq!((got, &x[..got.0]), (want, &y[..want.0]), "{a:e}");
            }
        }
        assert!(short > 200_000, "{short}");
    }

    #[test]
    fn escape_detection_and_plain_runs_match_a_byte_scan() {
        let stop = |b: &u8| STRING_STOP[usize::from(*b)];
        for len in 0..40 {
            for at in 0..=len {
                for bad in 0..=255u8 {
                    let mut bytes = vec![b'x'; len];
                    if let Some(b) = bytes.get_mut(at) {
                        *b = bad;
                    }
                    assert_eq!(
                        needs_escape(&bytes),
                        bytes.iter().any(stop),
                        "{len} {at} {bad}"
                    );
                    let mut text = vec![b'"'];
                    text.extend_from_slice(&bytes);
                    let mut p = Parser::new(&text);
                    p.i = 1;
                    p.skip_plain();
                    let want = 1 + bytes.iter().position(stop).unwrap_or(bytes.len());
                    assert_eq!(p.i, want, "{len} {at} {bad}");
                }
            }
        }
    }

    /// The eight-byte scan for the end of a plain run agrees with a byte scan on random
    /// texts made of bytes at and around every threshold it tests.
    #[test]
    fn plain_runs_match_a_byte_scan_on_tricky_bytes() {
        let mut next = crate::fuzzing::test_rng(0x0123_4567_89AB_CDEF);
        let tricky = [
            0x00, 0x01, 0x02, 0x03, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x5b, 0x5c, 0x5d, 0x7f,
            0x80, 0xa2, 0xdc, 0xfe, 0xff, b'x',
        ];
        for _ in 0..50_000 {
            let len = usize::try_from(next() % 24).unwrap();
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    // Mostly plain bytes, so that runs are long enough to matter.
                    if r.is_multiple_of(4) {
                        tricky[usize::try_from(r / 4 % 20).unwrap()]
                    } else {
                        [0x20, 0x21, 0x23, 0x5b, 0x5d, 0x80, 0xff, b'x']
                            [usize::try_from(r / 4 % 8).unwrap()]
                    }
                })
                .collect();
            let want = bytes
                .iter()
                .position(|b| STRING_STOP[usize::from(*b)])
                .unwrap_or(bytes.len());
            assert_eq!(plain_end(&bytes, 0), want, "{bytes:?}");
            assert_eq!(needs_escape(&bytes), want < bytes.len(), "{bytes:?}");
        }
    }

    /// The fast path of `number` agrees with the general one (value, kind, cursor, error) on
    /// random numbers of every shape: signs, leading zeros, long runs, fractions, exponents,
    /// any byte after them, and the end of the input.
    #[test]
    fn short_numbers_match_the_general_path() {
        let mut next = crate::fuzzing::test_rng(0x1234_5678_9ABC_DEF1);
        let digits = |n: u64, next: &mut dyn FnMut() -> u64| -> String {
            (0..n)
                .map(|_| char::from(b'0' + u8::try_from(next() % 10).unwrap()))
                .collect()
        };
        let mut texts: Vec<String> = [
            "0,",
            "7}",
            "01,",
            "1234567,",
            "12345678,",
            "1234567.5",
            "42e1",
            "42E1",
            "9.",
            "00",
            "-5,",
            "123]",
            "-0",
            "-0.0",
            "-",
            "-a",
            "0.",
            "1.e5",
            "999999999999999",
            "1000000000000000",
            "99999999999999.9",
            "9999999999999.99",
            "-999999999999999",
            "0.000000000000001",
            "0.0000000000000001",
        ]
        .iter()
        .map(|t| (*t).to_owned())
        .collect();
        for _ in 0..50_000 {
            let mut t = String::new();
            if next().is_multiple_of(3) {
                t.push('-');
            }
            let int_len = next() % 18;
            t += &digits(int_len, &mut next);
            if next().is_multiple_of(2) {
                t.push('.');
                let frac_len = next() % 18;
                t += &digits(frac_len, &mut next);
            }
            if next().is_multiple_of(8) {
                t.push(if next().is_multiple_of(2) { 'e' } else { 'E' });
                t += &digits(next() % 3, &mut next);
            }
            let tail = [",", "}", "]", " ", "", "x", ".", "e", "-", "\\"];
            t += tail[usize::try_from(next() % 10).unwrap()];
            texts.push(t);
        }
        for text in texts {
            let mut fast = Parser::new(text.as_bytes());
            let mut general = Parser::new(text.as_bytes());
            let a = fast.number();
            let b = general.number_general();
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "{text:?}");
            if a.is_ok() {
                assert_eq!(fast.i, general.i, "{text:?}");
            }
        }
    }

    /// Floats read through the fast path are the standard library's correctly rounded ones.
    #[test]
    fn floats_parse_like_the_standard_library() {
        let mut next = crate::fuzzing::test_rng(0x2545_F491_4F6C_DD1D);
        let mut texts = vec![
            "0.0".to_owned(),
            "-0.0".to_owned(),
            "9007199254740993.0".to_owned(),
            "9007199254740992.0".to_owned(),
            "1e22".to_owned(),
            "1e23".to_owned(),
            "123456789012345678.9".to_owned(),
            "0.1e-22".to_owned(),
            "4.35".to_owned(),
            "1E+2".to_owned(),
        ];
        for _ in 0..100_000 {
            let int = next() % 10_u64.pow(u32::try_from(next() % 12).unwrap());
            let frac_len = usize::try_from(next() % 12).unwrap();
            let frac: String = (0..frac_len)
                .map(|_| char::from(b'0' + u8::try_from(next() % 10).unwrap()))
                .collect();
            let sign = if next().is_multiple_of(2) { "" } else { "-" };
            let mut t = format!("{sign}{int}");
            if frac_len > 0 {
                t = format!("{t}.{frac}");
            }
            match next() % 3 {
                0 => t = format!("{t}e{}", i64::try_from(next() % 50).unwrap() - 25),
                1 if frac_len == 0 => t = format!("{t}.5"),
                _ => {}
            }
            texts.push(t);
        }
        for t in texts {
            let got = from_str(&t).unwrap();
            let want: f64 = t.parse().unwrap();
            match got.as_number().and_then(Number::as_float) {
                Some(f) => assert_eq!(f.to_bits(), want.to_bits(), "{t}"),
                None => assert!(!t.contains(['.', 'e', 'E']), "{t}"),
            }
        }
    }

    #[test]
    fn integers_write_like_display() {
        let mut n = 1u64;
        let mut values = vec![0, 9, 10, 99, 100, 101, u64::MAX, u64::MAX - 1];
        for _ in 0..19 {
            values.extend([n - 1, n, n + 1, n * 5]);
            n *= 10;
        }
        values.extend((0..100_000u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (i % 64)));
        for u in values {
            let mut out = String::new();
            write_u64(&mut out, u);
            assert_eq!(out, u.to_string());
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
