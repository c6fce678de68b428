//! Rendering of values the way the reference language prints them (`str()` / `repr()`):
//! `None`, `True`, `1.0`, `1e+16`, `'x'`, `['x', 'y']`, `{'k': 1}`. The reference's schema
//! messages embed these renderings.

use rxon_core::{Number, Value};
use std::fmt::Write as _;

/// `str(value)`: strings as they are, everything else as `repr`.
#[must_use]
pub fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => py_repr(other),
    }
}

/// `repr(value)`.
#[must_use]
pub fn py_repr(v: &Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, v);
    out
}

fn write_repr(out: &mut String, v: &Value) {
    match v {
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => out.push_str(&py_number(*n)),
        Value::String(s) => write_str_repr(out, s),
        Value::Array(a) => {
            out.push('[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(out, item);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str_repr(out, k);
                out.push_str(": ");
                write_repr(out, item);
            }
            out.push('}');
        }
        _ => out.push_str("None"),
    }
}

/// `repr(str)`: single quotes unless the text has `'` and no `"`; backslash escapes for
/// quotes, backslashes and non-printable characters.
#[must_use]
pub fn py_str_repr(s: &str) -> String {
    let mut out = String::new();
    write_str_repr(&mut out, s);
    out
}

fn write_str_repr(out: &mut String, s: &str) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..0xa0).contains(&(c as u32)) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

/// A number as the reference prints it: integers in decimal, floats with `repr(float)`.
#[must_use]
pub fn py_number(n: Number) -> String {
    match n.as_float() {
        Some(f) => py_float(f),
        None => n.to_string(),
    }
}

/// `repr(float)`: the shortest round-trip digits; positional for exponents -4..16 (always
/// with a fraction, `24.0`), scientific otherwise (`1e+16`, `1.5e-05`).
#[must_use]
pub fn py_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "inf".to_owned()
        } else {
            "-inf".to_owned()
        };
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..16).contains(&exp) {
        let mut s = format!("{f}");
        if !s.contains('.') {
            s.push_str(".0");
        }
        s
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rxon_core::json;

    #[test]
    fn floats_like_the_reference() {
        assert_eq!(py_float(24.0), "24.0");
        assert_eq!(py_float(1.5), "1.5");
        assert_eq!(py_float(-0.0), "-0.0");
        assert_eq!(py_float(1e16), "1e+16");
        assert_eq!(py_float(1e15), "1000000000000000.0");
        assert_eq!(py_float(0.0001), "0.0001");
        assert_eq!(py_float(0.00001), "1e-05");
        assert_eq!(py_float(1.5e-7), "1.5e-07");
        assert_eq!(py_float(1.2345e100), "1.2345e+100");
        assert_eq!(py_float(0.1 + 0.2), "0.30000000000000004");
    }

    #[test]
    fn containers_and_scalars() {
        let v = json::from_str(r#"{"k":1,"l":["x","y"],"n":null,"b":true,"f":1.0,"q":"it's"}"#)
            .unwrap();
        assert_eq!(
            py_str(&v),
            r#"{'k': 1, 'l': ['x', 'y'], 'n': None, 'b': True, 'f': 1.0, 'q': "it's"}"#
        );
        assert_eq!(py_str(&Value::String("z".into())), "z");
        assert_eq!(py_str(&Value::Null), "None");
        assert_eq!(py_str_repr("a\\b\n"), "'a\\\\b\\n'");
    }
}
