//! `schema_for` against the reference's `extract` vectors that Rust types can express.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rxon_core::{Map, Value, json};
use rxon_schema::schema_for;
use std::collections::HashMap;

fn expected(name: &str) -> Map {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/schema.json");
    let v = json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v.get("extract")
        .and_then(|e| e.get("b17"))
        .and_then(|e| e.get(name))
        .and_then(Value::as_object)
        .cloned()
        .unwrap()
}

#[allow(dead_code)]
#[derive(schemars::JsonSchema, serde::Deserialize)]
struct FileMetadata {
    uri: String,
    #[serde(default)]
    size: i64,
    etag: Option<String>,
    metadata: Option<HashMap<String, serde_json::Value>>,
}

#[allow(dead_code)]
#[derive(schemars::JsonSchema, serde::Deserialize)]
struct DeviceUsage {
    unit_id: String,
    load_percent: f64,
    metrics: Option<HashMap<String, serde_json::Value>>,
}

#[allow(dead_code)]
#[derive(schemars::JsonSchema, serde::Deserialize)]
struct TaskError {
    code: String,
    message: String,
    details: Option<HashMap<String, serde_json::Value>>,
}

#[allow(dead_code)]
#[derive(schemars::JsonSchema, serde::Deserialize)]
struct ResourcesUsage {
    #[serde(default)]
    cpu_load_percent: f64,
    #[serde(default)]
    ram_used_gb: f64,
    devices_usage: Option<Vec<DeviceUsage>>,
}

#[allow(dead_code)]
#[derive(schemars::JsonSchema, serde::Deserialize)]
struct SecurityContext {
    signature: Option<String>,
    signer_id: Option<String>,
    identity_chain: Option<Vec<String>>,
    metadata: Option<HashMap<String, serde_json::Value>>,
}

#[test]
fn primitive_types() {
    assert_eq!(schema_for::<String>(), expected("type:str"));
    assert_eq!(schema_for::<i64>(), expected("type:int"));
    assert_eq!(schema_for::<u32>(), expected("type:int"));
    assert_eq!(schema_for::<f64>(), expected("type:float"));
    assert_eq!(schema_for::<bool>(), expected("type:bool"));
    assert_eq!(schema_for::<()>(), expected("type:None"));
    assert_eq!(schema_for::<serde_json::Value>(), expected("type:Any"));
}

#[test]
fn containers_and_options() {
    assert_eq!(schema_for::<Vec<i64>>(), expected("type:list[int]"));
    assert_eq!(
        schema_for::<Vec<serde_json::Value>>(),
        expected("type:list")
    );
    assert_eq!(schema_for::<Option<i64>>(), expected("type:int | None"));
    assert_eq!(
        schema_for::<Option<Vec<String>>>(),
        expected("type:list[str] | None")
    );
    assert_eq!(
        schema_for::<HashMap<String, i64>>(),
        expected("type:dict[str, int]")
    );
    assert_eq!(
        schema_for::<HashMap<String, serde_json::Value>>(),
        expected("type:dict")
    );
}

#[test]
fn records() {
    assert_eq!(schema_for::<FileMetadata>(), expected("model:FileMetadata"));
    assert_eq!(schema_for::<DeviceUsage>(), expected("model:DeviceUsage"));
    assert_eq!(schema_for::<TaskError>(), expected("model:TaskError"));
    // Nested records (inlined, also inside Option<Vec<_>>) and records without required fields.
    assert_eq!(
        schema_for::<ResourcesUsage>(),
        expected("model:ResourcesUsage")
    );
    assert_eq!(
        schema_for::<SecurityContext>(),
        expected("model:SecurityContext")
    );
}

#[test]
fn unit_enums_are_string_enums() {
    #[allow(dead_code)]
    #[derive(schemars::JsonSchema)]
    enum Mode {
        #[schemars(rename = "fast")]
        Fast,
        #[schemars(rename = "slow")]
        Slow,
    }
    let want = json::from_str(r#"{"type":"string","enum":["fast","slow"]}"#).unwrap();
    assert_eq!(Value::Object(schema_for::<Mode>()), want);
}
