#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod b17;
pub mod b9;
pub mod convert;
mod extract;
pub mod pyrepr;

pub use b17::{COMPILE_FAILED, CompiledSchema, SchemaCache};
pub use extract::{from_schemars, schema_for};

use rxon_core::{
    DecodeError, DecodeErrorKind, Error, Map, ProtocolVersion, SkillInfo, TaskPayload, TaskResult,
    Value,
};

/// Validates `data` against `schema` and words a violation as the reference of `version`
/// does (spec §12.1). A missing or empty schema accepts everything.
///
/// * 1.0b17 (default): a compiled JSON-Schema validator (cached), messages translated from
///   the engine's wording (`Field 'a': Expected integer`, `Failed to compile schema`).
/// * 1.0b9: the reference's small hand-written validator, with its quirks
///   (`Field 'a': Expected integer, got str`; `{"type":"null"}` accepts anything).
///
/// # Errors
/// The reference's message for the first violation.
///
/// ```
/// use rxon_core::{json, ProtocolVersion};
/// let schema = json::from_str(r#"{"type":"object","properties":{"a":{"type":"integer"}}}"#).unwrap();
/// let data = json::from_str(r#"{"a":"s"}"#).unwrap();
/// let schema = schema.as_object();
/// assert_eq!(rxon_schema::validate_data(&data, schema, ProtocolVersion::V1_0b17).unwrap_err(), "Field 'a': Expected integer");
/// assert_eq!(rxon_schema::validate_data(&data, schema, ProtocolVersion::V1_0b9).unwrap_err(), "Field 'a': Expected integer, got str");
/// ```
pub fn validate_data(
    data: &Value,
    schema: Option<&Map>,
    version: ProtocolVersion,
) -> Result<(), String> {
    let Some(schema) = schema.filter(|s| !s.is_empty()) else {
        return Ok(());
    };
    if version.is_b9() {
        b9::validate(data, schema)
    } else {
        b17::validate(data, schema)
    }
}

/// Checks a task's `params` against its skill's `input_schema` (1.0b17 messages).
///
/// # Errors
/// [`Error::Validation`] (wire code `INVALID_INPUT_ERROR`) with the reference's message.
pub fn validate_params(task: &TaskPayload, skill: &SkillInfo) -> Result<(), Error> {
    validate_params_as(task, skill, ProtocolVersion::default())
}

/// [`validate_params`] with the messages of `version`.
///
/// # Errors
/// [`Error::Validation`] with the reference's message.
pub fn validate_params_as(
    task: &TaskPayload,
    skill: &SkillInfo,
    version: ProtocolVersion,
) -> Result<(), Error> {
    let data = task.params.clone().map_or(Value::Null, Value::Object);
    validate_data(&data, skill.input_schema.as_ref(), version)
        .map_err(|message| Error::Validation { message })
}

/// Checks a result's `data` against its skill's `output_schema` (1.0b17 messages).
///
/// # Errors
/// [`Error::Contract`] (wire code `CONTRACT_VIOLATION_ERROR`) whose kind is
/// [`DecodeErrorKind::Schema`] with the reference's message, at `$.data`.
pub fn validate_result(result: &TaskResult, skill: &SkillInfo) -> Result<(), Error> {
    validate_result_as(result, skill, ProtocolVersion::default())
}

/// [`validate_result`] with the messages of `version`.
///
/// # Errors
/// [`Error::Contract`] with the reference's message.
pub fn validate_result_as(
    result: &TaskResult,
    skill: &SkillInfo,
    version: ProtocolVersion,
) -> Result<(), Error> {
    let data = result.data.clone().map_or(Value::Null, Value::Object);
    validate_data(&data, skill.output_schema.as_ref(), version).map_err(|message| {
        Error::Contract(DecodeError {
            model: "TaskResult",
            path: "$.data".to_owned(),
            kind: DecodeErrorKind::Schema(message),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rxon_core::{ErrorCode, json};

    fn skill() -> SkillInfo {
        let input = json::from_str(
            r#"{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}"#,
        )
        .unwrap();
        let output = json::from_str(
            r#"{"type":"object","properties":{"r":{"type":"string"}},"required":["r"]}"#,
        )
        .unwrap();
        SkillInfo {
            input_schema: input.as_object().cloned(),
            output_schema: output.as_object().cloned(),
            ..SkillInfo::new("s")
        }
    }

    #[test]
    fn remote_references_are_never_fetched() {
        let schema = json::from_str(r#"{"$ref":"http://127.0.0.1:9/schema.json"}"#).unwrap();
        let r = validate_data(&Value::Null, schema.as_object(), ProtocolVersion::V1_0b17);
        assert_eq!(r.unwrap_err(), COMPILE_FAILED);
        let schema = json::from_str(r#"{"$ref":"file:///etc/passwd"}"#).unwrap();
        let r = validate_data(&Value::Null, schema.as_object(), ProtocolVersion::V1_0b17);
        assert_eq!(r.unwrap_err(), COMPILE_FAILED);
    }

    #[test]
    fn params_and_results() {
        let mut task = TaskPayload::new("j", "t", "s");
        let e = validate_params(&task, &skill()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidInput);
        assert_eq!(e.to_string(), "Expected object, got null");
        task.params = json::from_str(r#"{"n":1}"#).unwrap().as_object().cloned();
        validate_params(&task, &skill()).unwrap();
        task.params = json::from_str(r#"{"n":"x"}"#).unwrap().as_object().cloned();
        assert_eq!(
            validate_params(&task, &skill()).unwrap_err().to_string(),
            "Field 'n': Expected integer"
        );
        assert_eq!(
            validate_params_as(&task, &skill(), ProtocolVersion::V1_0b9)
                .unwrap_err()
                .to_string(),
            "Field 'n': Expected integer, got str"
        );

        let mut result = TaskResult::new("j", "t");
        result.data = json::from_str(r#"{"r":5}"#).unwrap().as_object().cloned();
        let e = validate_result(&result, &skill()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ContractViolation);
        assert_eq!(e.to_string(), "Field 'r': Expected string");
        result.data = json::from_str(r#"{"r":"ok"}"#)
            .unwrap()
            .as_object()
            .cloned();
        validate_result(&result, &skill()).unwrap();
        validate_result(&result, &SkillInfo::new("no-schema")).unwrap();
    }
}
