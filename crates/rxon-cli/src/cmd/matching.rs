//! `rxon match`: would this worker take this task? Reads JSON lines on stdin and answers each
//! with `true`, `false`, or `error: <reason>`.
//!
//! Each input line is an object
//! `{"kind": "resources"|"device"|"artifact"|"skill", "version": "1.0b9"|"1.0b17", "worker": {...}, "requirement": {...}}`
//! (`version` is optional, default 1.0b17). The answer for a line is exactly what a receiver of
//! that version decides (spec §11); an invalid line gets an `error:` answer and the next line
//! is read. Answers are buffered, so long inputs are answered at full speed.

use rxon::matching::{DeviceAssignment, MatchKind, MatchOptions, match_values};
use rxon::{ProtocolVersion, Value};
use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;

/// Arguments of `rxon match`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Assign required devices by maximum bipartite matching (matches whenever a one-to-one
    /// assignment exists) instead of the reference's greedy first fit.
    #[arg(long)]
    exact: bool,
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, super::CmdError> {
    let assignment = if args.exact {
        DeviceAssignment::Exact
    } else {
        DeviceAssignment::Greedy
    };
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(64 * 1024, stdout.lock());
    let mut line = Vec::with_capacity(1024);
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let text = trim_line_end(&line);
        match answer(text, assignment) {
            Ok(true) => out.write_all(b"true\n")?,
            Ok(false) => out.write_all(b"false\n")?,
            Err(reason) => writeln!(out, "error: {}", one_line(&reason))?,
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Keeps an answer on one line whatever the reason's text holds.
fn one_line(reason: &str) -> String {
    reason.replace(['\n', '\r'], " ")
}

/// The answer for one input line.
fn answer(text: &[u8], assignment: DeviceAssignment) -> Result<bool, String> {
    let request = rxon::json::from_slice(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let Value::Object(fields) = &request else {
        return Err(format!(
            "expected a JSON object, got {}",
            request.type_name()
        ));
    };
    let kind: MatchKind = match fields.get("kind") {
        Some(Value::String(k)) => k.parse().map_err(|e| format!("{e}"))?,
        Some(other) => {
            return Err(format!(
                "\"kind\" must be a string, got {}",
                other.type_name()
            ));
        }
        None => return Err("missing \"kind\"".to_owned()),
    };
    let version = match fields.get("version") {
        None | Some(Value::Null) => ProtocolVersion::default(),
        Some(Value::String(v)) => v
            .parse()
            .map_err(|_| format!("unknown version {v:?} (expected 1.0b9 or 1.0b17)"))?,
        Some(other) => {
            return Err(format!(
                "\"version\" must be a string, got {}",
                other.type_name()
            ));
        }
    };
    let worker = fields.get("worker").ok_or("missing \"worker\"")?;
    let requirement = fields.get("requirement").ok_or("missing \"requirement\"")?;
    let options = MatchOptions::new(version).with_assignment(assignment);
    match_values(kind, worker, requirement, &options).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_and_errors() {
        let g = DeviceAssignment::Greedy;
        let line = br#"{"kind":"device","worker":{"type":"gpu","model":"NVIDIA RTX 4090"},"requirement":{"type":"gpu","model":"rtx"}}"#;
        assert_eq!(answer(line, g), Ok(true));
        let b9 = br#"{"kind":"resources","version":"1.0b9","worker":{"cpu_cores":4},"requirement":{"cpu_cores":8}}"#;
        assert_eq!(answer(b9, g), Ok(false));
        let b17 = br#"{"kind":"resources","worker":{"cpu_cores":4},"requirement":{"cpu_cores":8}}"#;
        assert_eq!(answer(b17, g), Ok(true));
        assert!(answer(b"{", g).unwrap_err().starts_with("invalid JSON"));
        assert!(answer(b"[]", g).unwrap_err().contains("object"));
        assert!(
            answer(br#"{"kind":"gpu","worker":{},"requirement":{}}"#, g)
                .unwrap_err()
                .contains("unknown kind")
        );
        assert_eq!(
            answer(br#"{"kind":"skill","requirement":{}}"#, g),
            Err("missing \"worker\"".to_owned())
        );
        assert!(
            answer(
                br#"{"kind":"skill","version":"2","worker":{},"requirement":{}}"#,
                g
            )
            .is_err()
        );
        let skill_b9 = br#"{"kind":"skill","version":"1.0b9","worker":{"name":"a"},"requirement":{"name":"a"}}"#;
        assert!(answer(skill_b9, g).unwrap_err().contains("not available"));
    }

    #[test]
    fn exact_assignment_flag() {
        let line = br#"{"kind":"resources","worker":{"devices":[{"type":"gpu","model":"RTX 4090"},{"type":"gpu","model":"RTX 3090"}]},"requirement":{"devices":[{"type":"gpu"},{"type":"gpu","model":"4090"}]}}"#;
        assert_eq!(answer(line, DeviceAssignment::Greedy), Ok(false));
        assert_eq!(answer(line, DeviceAssignment::Exact), Ok(true));
    }
}
