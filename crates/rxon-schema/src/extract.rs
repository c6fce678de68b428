//! JSON Schemas from Rust types (spec §12.2): a worker declares a skill's input and output
//! schema from its parameter and result types with `schemars`, post-processed into the
//! reference's extraction shape.
//!
//! The shape: a record is `{"type":"object","properties":{…},"required":[…],
//! "additionalProperties":false}` (fields with a default or of `Option` type are not
//! required); `Option<T>` is `{"anyOf":[T, {"type":"null"}]}`; a list is
//! `{"type":"array","items":T}`; a map is `{"type":"object"}`; a unit-only enum is
//! `{"type":"string","enum":[…]}`; `serde_json::Value` is `{}`. Nested records are inlined
//! (no `$ref`), and annotations the reference does not produce (`$schema`, `title`,
//! `description`, `format`, `minimum` of unsigned integers, `default`, …) are dropped.

use rxon_core::Map;
use serde_json::Value as J;

/// The reference-shaped JSON Schema of `T`.
#[must_use]
pub fn schema_for<T: schemars::JsonSchema>() -> Map {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<T>();
    from_schemars(schema.as_value())
}

/// Post-processes a `schemars` schema (any draft) into the reference's extraction shape.
#[must_use]
pub fn from_schemars(schema: &J) -> Map {
    let defs = schema
        .get("$defs")
        .or_else(|| schema.get("definitions"))
        .and_then(J::as_object)
        .cloned()
        .unwrap_or_default();
    let shaped = shape(schema, &defs, 0);
    match crate::convert::from_serde(&shaped) {
        rxon_core::Value::Object(m) => m,
        _ => Map::new(),
    }
}

const MAX_DEPTH: usize = 64;

fn shape(s: &J, defs: &serde_json::Map<String, J>, depth: usize) -> J {
    let J::Object(obj) = s else {
        // `true` schema: anything.
        return J::Object(serde_json::Map::new());
    };
    if depth > MAX_DEPTH {
        return J::Object(serde_json::Map::new());
    }
    if let Some(r) = obj.get("$ref").and_then(J::as_str) {
        let name = r.rsplit('/').next().unwrap_or_default();
        return match defs.get(name) {
            Some(target) => shape(target, defs, depth + 1),
            None => J::Object(serde_json::Map::new()),
        };
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(J::Array(subs)) = obj.get(key) {
            let mut out = serde_json::Map::new();
            out.insert(
                "anyOf".into(),
                J::Array(subs.iter().map(|x| shape(x, defs, depth + 1)).collect()),
            );
            return J::Object(out);
        }
    }
    if let Some(J::Array(all)) = obj.get("allOf")
        && all.len() == 1
        && let Some(only) = all.first()
    {
        return shape(only, defs, depth + 1);
    }
    let types: Vec<String> = match obj.get("type") {
        Some(J::String(t)) => vec![t.clone()],
        Some(J::Array(ts)) => ts
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    if types.len() > 1 {
        let alts = types
            .iter()
            .map(|t| {
                let mut single = obj.clone();
                single.insert("type".into(), J::String(t.clone()));
                shape(&J::Object(single), defs, depth + 1)
            })
            .collect();
        let mut out = serde_json::Map::new();
        out.insert("anyOf".into(), J::Array(alts));
        return J::Object(out);
    }
    let mut out = serde_json::Map::new();
    if let Some(J::Array(values)) = obj.get("enum") {
        out.insert(
            "type".into(),
            J::String(types.first().cloned().unwrap_or_else(|| "string".into())),
        );
        out.insert("enum".into(), J::Array(values.clone()));
        return J::Object(out);
    }
    if let Some(c) = obj.get("const") {
        out.insert(
            "type".into(),
            J::String(types.first().cloned().unwrap_or_else(|| "string".into())),
        );
        out.insert("enum".into(), J::Array(vec![c.clone()]));
        return J::Object(out);
    }
    let Some(t) = types.first() else {
        return J::Object(out);
    };
    out.insert("type".into(), J::String(t.clone()));
    match t.as_str() {
        "object" => {
            if let Some(J::Object(props)) = obj.get("properties") {
                let shaped: serde_json::Map<String, J> = props
                    .iter()
                    .map(|(k, v)| (k.clone(), shape(v, defs, depth + 1)))
                    .collect();
                let required: Vec<J> = obj
                    .get("required")
                    .and_then(J::as_array)
                    .map(|r| {
                        r.iter()
                            .filter(|n| n.as_str().is_some_and(|n| props.contains_key(n)))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert("properties".into(), J::Object(shaped));
                out.insert("required".into(), J::Array(required));
                out.insert("additionalProperties".into(), J::Bool(false));
            }
        }
        "array" => {
            let items = obj.get("items").map_or_else(
                || J::Object(serde_json::Map::new()),
                |i| shape(i, defs, depth + 1),
            );
            out.insert("items".into(), items);
        }
        _ => {}
    }
    J::Object(out)
}
