//! The 1.0b17 reference's validation (spec §12.1 \[b17\]): a compiled JSON-Schema validator
//! (draft chosen by `$schema`, draft-07 by default) cached in a bounded, thread-safe cache,
//! and the reference's messages.
//!
//! The reference reports the first error of its JSON-Schema engine and rewrites it with a
//! translation table. Here the `jsonschema` engine decides validity and lists every error;
//! the error the reference's engine would have met first (keywords in its evaluation order,
//! properties in the schema's order, items by index) is worded as that engine words it
//! (`data.a must be integer`) and then translated by a port of the reference's table
//! ([`translate`]).

use crate::convert::to_serde;
use crate::pyrepr::{py_repr, py_str, py_str_repr};
use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{Draft, ValidationError, Validator};
use rxon_core::{Map, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

/// The message when a schema cannot be compiled.
pub const COMPILE_FAILED: &str = "Failed to compile schema";

/// How many compiled validators the cache keeps (the reference's bound).
pub const CACHE_CAPACITY: usize = 1024;

/// A compiled schema (or the fact that it does not compile).
#[derive(Debug)]
pub struct CompiledSchema {
    validator: Option<Validator>,
}

impl CompiledSchema {
    /// Compiles `schema`: the draft comes from `$schema` (`draft-04`, `draft-06`, `draft-07`;
    /// anything else is draft-07), references are resolved inside the schema only.
    #[must_use]
    pub fn compile(schema: &Map) -> Self {
        if !reference_accepts(schema) {
            return Self { validator: None };
        }
        let draft = draft_of(schema);
        let json = serde_json::Value::Object(crate::convert::map_to_serde(schema));
        let validator = jsonschema::options()
            .with_draft(draft)
            .should_validate_formats(true)
            .build(&json)
            .ok();
        Self { validator }
    }

    /// Whether the schema compiled.
    #[must_use]
    pub fn is_compiled(&self) -> bool {
        self.validator.is_some()
    }

    /// Validates `data`; `schema` must be the schema this was compiled from (its member
    /// order decides which of several errors is reported).
    ///
    /// # Errors
    /// The reference's message for the first violation, or [`COMPILE_FAILED`].
    pub fn validate(&self, data: &Value, schema: &Map) -> Result<(), String> {
        let Some(validator) = &self.validator else {
            return Err(COMPILE_FAILED.to_owned());
        };
        let instance = to_serde(data);
        if validator.is_valid(&instance) {
            return Ok(());
        }
        let raw = first_engine_message(validator, schema, data, &instance);
        Err(translate(&raw, data))
    }
}

/// The bounded cache of compiled validators, keyed by the schema up to member order — the
/// same identity as the reference's key, the schema's canonical (sorted-keys) JSON text
/// ([`canonical_key`]), found without writing that text: an order-insensitive fingerprint
/// picks the candidates and structural equality confirms. Oldest entries are evicted first.
#[derive(Debug, Default)]
pub struct SchemaCache {
    inner: Mutex<CacheInner>,
}

#[derive(Debug, Default)]
struct CacheInner {
    buckets: HashMap<u64, Vec<CacheEntry>>,
    order: VecDeque<(u64, u64)>,
    next_id: u64,
    len: usize,
}

#[derive(Debug)]
struct CacheEntry {
    id: u64,
    schema: Map,
    compiled: Arc<CompiledSchema>,
}

impl CacheInner {
    fn find(&self, fp: u64, schema: &Map) -> Option<Arc<CompiledSchema>> {
        self.buckets
            .get(&fp)?
            .iter()
            .find(|e| e.schema == *schema)
            .map(|e| Arc::clone(&e.compiled))
    }
}

impl SchemaCache {
    /// An empty cache.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The process-wide cache.
    #[must_use]
    pub fn global() -> &'static SchemaCache {
        static GLOBAL: std::sync::OnceLock<SchemaCache> = std::sync::OnceLock::new();
        GLOBAL.get_or_init(SchemaCache::new)
    }

    /// The compiled validator of `schema`, compiling it on a miss.
    pub fn get(&self, schema: &Map) -> Arc<CompiledSchema> {
        let fp = fingerprint_map(schema);
        if let Some(c) = self
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .find(fp, schema)
        {
            return c;
        }
        let compiled = Arc::new(CompiledSchema::compile(schema));
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = inner.find(fp, schema) {
            return c;
        }
        while inner.len >= CACHE_CAPACITY {
            let Some((old_fp, old_id)) = inner.order.pop_front() else {
                break;
            };
            if let Some(bucket) = inner.buckets.get_mut(&old_fp) {
                bucket.retain(|e| e.id != old_id);
                if bucket.is_empty() {
                    inner.buckets.remove(&old_fp);
                }
            }
            inner.len -= 1;
        }
        let id = inner.next_id;
        inner.next_id += 1;
        inner.order.push_back((fp, id));
        inner.buckets.entry(fp).or_default().push(CacheEntry {
            id,
            schema: schema.clone(),
            compiled: Arc::clone(&compiled),
        });
        inner.len += 1;
        compiled
    }

    /// Number of cached validators.
    #[must_use]
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len
    }

    /// Whether the cache is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A small, fast (not DoS-resistant) hasher for fingerprints. Collisions only cost an
/// equality check, and the cache is bounded.
#[derive(Default)]
struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut word = [0_u8; 8];
            word.copy_from_slice(c);
            self.add(u64::from_le_bytes(word));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl Fx {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// An order-insensitive structural hash: equal for schemas with the same canonical text.
fn fingerprint_map(m: &Map) -> u64 {
    use std::hash::{Hash as _, Hasher as _};
    let mut sum: u64 = 0;
    for (k, v) in m.iter() {
        let mut h = Fx::default();
        k.hash(&mut h);
        h.write_u64(fingerprint(v));
        sum = sum.wrapping_add(h.finish());
    }
    let mut h = Fx::default();
    h.write_u8(6);
    h.write_usize(m.len());
    h.write_u64(sum);
    h.finish()
}

fn fingerprint(v: &Value) -> u64 {
    use std::hash::{Hash as _, Hasher as _};
    let mut h = Fx::default();
    match v {
        Value::Bool(b) => {
            h.write_u8(1);
            b.hash(&mut h);
        }
        Value::Number(n) => match n.as_float() {
            Some(f) => {
                h.write_u8(3);
                // -0.0 == 0.0 structurally.
                h.write_u64(if f == 0.0 { 0 } else { f.to_bits() });
            }
            None => {
                h.write_u8(2);
                match (n.as_i64(), n.as_u64()) {
                    (Some(i), _) => h.write_i128(i128::from(i)),
                    (None, Some(u)) => h.write_i128(i128::from(u)),
                    (None, None) => {}
                }
            }
        },
        Value::String(s) => {
            h.write_u8(4);
            s.hash(&mut h);
        }
        Value::Array(a) => {
            h.write_u8(5);
            h.write_usize(a.len());
            for item in a {
                h.write_u64(fingerprint(item));
            }
        }
        Value::Object(m) => return fingerprint_map(m),
        _ => h.write_u8(0),
    }
    h.finish()
}

/// The reference's cache key: the schema's compact JSON with sorted keys (what
/// `rxon_core::json::to_string_sorted` gives for the schema as a value), written without
/// copying the schema. Two schemas share a cached validator exactly when these agree.
#[must_use]
pub fn canonical_key(schema: &Map) -> String {
    let mut out = String::with_capacity(256);
    let mut members: Vec<(&String, &Value)> = schema.iter().collect();
    members.sort_unstable_by(|a, b| a.0.cmp(b.0));
    out.push('{');
    for (i, (k, v)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        rxon_core::json::write_str(&mut out, k);
        out.push(':');
        rxon_core::json::write_value(&mut out, v, true);
    }
    out.push('}');
    out
}

/// Validates `data` against `schema` the 1.0b17 way, with the process-wide cache.
///
/// # Errors
/// The reference's message.
pub fn validate(data: &Value, schema: &Map) -> Result<(), String> {
    if schema.is_empty() {
        return Ok(());
    }
    SchemaCache::global().get(schema).validate(data, schema)
}

fn draft_of(schema: &Map) -> Draft {
    match schema.get("$schema") {
        Some(Value::String(s)) if s.contains("draft-04") => Draft::Draft4,
        Some(Value::String(s)) if s.contains("draft-06") => Draft::Draft6,
        _ => Draft::Draft7,
    }
}

/// Compile-time checks the reference's engine makes beyond the meta-schema: a `required`
/// property that `additionalProperties: false` forbids (no `properties` entry and no
/// `patternProperties`) makes the schema uncompilable.
fn reference_accepts(schema: &Map) -> bool {
    fn walk(v: &Value) -> bool {
        match v {
            Value::Object(m) => check(m),
            Value::Array(a) => a.iter().all(walk),
            _ => true,
        }
    }
    fn check(m: &Map) -> bool {
        if let (Some(Value::Array(req)), Some(Value::Bool(false))) =
            (m.get("required"), m.get("additionalProperties"))
            && m.get("patternProperties")
                .and_then(Value::as_object)
                .is_none_or(|p| p.is_empty())
        {
            let props = m.get("properties").and_then(Value::as_object);
            let all_allowed = req.iter().all(|r| match r {
                Value::String(name) => props.is_some_and(|p| p.contains_key(name)),
                _ => true,
            });
            if !all_allowed {
                return false;
            }
        }
        for (k, v) in m.iter() {
            let ok = match k.as_str() {
                "properties" | "patternProperties" | "definitions" | "dependencies" => {
                    v.as_object().is_none_or(|p| p.values().all(walk))
                }
                "items"
                | "additionalItems"
                | "additionalProperties"
                | "allOf"
                | "anyOf"
                | "oneOf"
                | "not"
                | "if"
                | "then"
                | "else"
                | "contains"
                | "propertyNames" => walk(v),
                _ => true,
            };
            if !ok {
                return false;
            }
        }
        true
    }
    check(schema)
}

/// The reference engine's keyword evaluation order (draft-04 keywords, then those draft-06
/// and draft-07 add).
const KEYWORD_ORDER: &[&str] = &[
    "type",
    "enum",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "items",
    "minProperties",
    "maxProperties",
    "required",
    "dependencies",
    "properties",
    "patternProperties",
    "additionalProperties",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "propertyNames",
    "contains",
    "const",
    "if",
    "contentEncoding",
    "contentMediaType",
];

fn keyword_rank(kw: &str) -> usize {
    let kw = match kw {
        "$ref" => return 0,
        "additionalItems" => "items",
        "then" | "else" => "if",
        other => other,
    };
    KEYWORD_ORDER
        .iter()
        .position(|k| *k == kw)
        .map_or(usize::MAX, |p| p + 1)
}

/// Where an engine error sits in the reference's evaluation order, and the schema object
/// holding the failing keyword.
struct Located<'s> {
    rank: Vec<usize>,
    holder: Option<&'s Map>,
    /// For `dependencies`: the property whose dependency failed, when it is a list.
    dependency_of: Option<String>,
    /// The last keyword of the path.
    keyword: Option<String>,
}

fn locate<'s>(root: &'s Map, segments: &[String]) -> Located<'s> {
    let mut rank = Vec::with_capacity(segments.len());
    let mut cur: Option<&'s Map> = Some(root);
    let mut holder = cur;
    let mut dependency_of = None;
    let mut keyword = None;
    let mut i = 0;
    while let Some(kw) = segments.get(i) {
        holder = cur;
        keyword = Some(kw.clone());
        rank.push(keyword_rank(kw));
        i += 1;
        let sub = cur.and_then(|m| m.get(kw));
        match kw.as_str() {
            "dependencies" if segments.get(i).is_none() => {
                // The engine reports a failed property dependency at the keyword itself.
                dependency_of = Some(String::new());
                break;
            }
            "properties" | "patternProperties" | "dependencies" | "definitions" | "$defs" => {
                let name = segments.get(i).map_or("", String::as_str);
                i += 1;
                let members = sub.and_then(Value::as_object);
                rank.push(
                    members
                        .and_then(|m| m.keys().position(|k| k == name))
                        .unwrap_or(0),
                );
                let next = members.and_then(|m| m.get(name));
                if kw == "dependencies" && matches!(next, Some(Value::Array(_))) {
                    dependency_of = Some(name.to_owned());
                    break;
                }
                cur = next.and_then(Value::as_object);
            }
            "allOf" | "anyOf" | "oneOf" => {
                let idx = segments
                    .get(i)
                    .and_then(|s| s.parse::<usize>().ok())
                    .unwrap_or(0);
                i += 1;
                rank.push(idx);
                cur = sub
                    .and_then(Value::as_array)
                    .and_then(|a| a.get(idx))
                    .and_then(Value::as_object);
            }
            "items" => match sub {
                Some(Value::Array(a)) => {
                    let idx = segments
                        .get(i)
                        .and_then(|s| s.parse::<usize>().ok())
                        .unwrap_or(0);
                    i += 1;
                    rank.push(idx);
                    cur = a.get(idx).and_then(Value::as_object);
                }
                other => cur = other.and_then(Value::as_object),
            },
            "$ref" => {
                cur = sub
                    .and_then(Value::as_str)
                    .and_then(|r| resolve_local(root, r))
            }
            "additionalProperties"
            | "additionalItems"
            | "not"
            | "contains"
            | "propertyNames"
            | "if"
            | "then"
            | "else" => cur = sub.and_then(Value::as_object),
            _ => break,
        }
    }
    Located {
        rank,
        holder,
        dependency_of,
        keyword,
    }
}

/// Resolves a local `#/a/b` reference inside the root schema.
fn resolve_local<'s>(root: &'s Map, reference: &str) -> Option<&'s Map> {
    let pointer = reference.strip_prefix('#')?;
    let mut cur: Option<&'s Value> = None;
    let mut cur_map = Some(root);
    for raw in pointer.split('/').filter(|s| !s.is_empty()) {
        let seg = raw.replace("~1", "/").replace("~0", "~");
        let next = match cur {
            Some(Value::Array(a)) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
            _ => cur_map.and_then(|m| m.get(&seg)),
        };
        cur = next;
        cur_map = next.and_then(Value::as_object);
    }
    cur_map
}

struct Candidate<'s> {
    rank: Vec<usize>,
    instance_path: String,
    name: String,
    located_holder: Option<&'s Map>,
    dependency_of: Option<String>,
    keyword: Option<String>,
    error: ValidationError<'s>,
}

/// The first error as the reference's engine would word it, e.g. `data.a must be integer`.
fn first_engine_message(
    validator: &Validator,
    schema: &Map,
    data: &Value,
    instance: &serde_json::Value,
) -> String {
    let mut candidates: Vec<Candidate<'_>> = validator
        .iter_errors(instance)
        .map(|e: ValidationError<'_>| {
            let segments: Vec<String> = e
                .evaluation_path()
                .segments()
                .map(|s| s.to_string())
                .collect();
            let located = locate(schema, &segments);
            let instance_path = e.instance_path().as_str().to_owned();
            let name = engine_name(data, e.instance_path().segments().map(|s| s.to_string()));
            Candidate {
                rank: located.rank,
                instance_path,
                name,
                located_holder: located.holder,
                dependency_of: located.dependency_of,
                keyword: located.keyword,
                error: e,
            }
        })
        .collect();
    candidates.sort_by(|a, b| a.rank.cmp(&b.rank));
    let Some(first) = candidates.first() else {
        return "data must be valid".to_owned();
    };
    let name = &first.name;
    let holder = first.located_holder;
    let kw = |k: &str| holder.and_then(|h| h.get(k));
    let kw_str = |k: &str, fallback: String| kw(k).map_or(fallback, py_str);
    if first.dependency_of.is_some()
        && let ValidationErrorKind::Required { .. } = first.error.kind()
        && let Some((dep, missing)) =
            first_missing_dependency(holder, value_at(data, &first.instance_path))
    {
        return format!("{name} missing dependency {missing} for {dep}");
    }
    if matches!(first.error.kind(), ValidationErrorKind::FalseSchema)
        && first.keyword.as_deref() == Some("additionalProperties")
        && let Some(Value::Object(obj)) = value_at(data, &first.instance_path)
    {
        // `additionalProperties: false` without `properties` is reported as a false schema.
        let declared = holder
            .and_then(|h| h.get("properties"))
            .and_then(Value::as_object);
        let set: Vec<String> = obj
            .keys()
            .filter(|k| !declared.is_some_and(|d| d.contains_key(k)))
            .map(|k| py_str_repr(k))
            .collect();
        return format!("{name} must not contain {{{}}} properties", set.join(", "));
    }
    match first.error.kind() {
        ValidationErrorKind::Type { kind } => {
            let expected = match kw("type") {
                Some(Value::String(t)) => t.clone(),
                Some(Value::Array(ts)) => ts.iter().map(py_str).collect::<Vec<_>>().join(" or "),
                _ => match kind {
                    TypeKind::Single(t) => t.to_string(),
                    TypeKind::Multiple(ts) => ts
                        .iter()
                        .map(|t| t.to_string())
                        .collect::<Vec<_>>()
                        .join(" or "),
                },
            };
            format!("{name} must be {expected}")
        }
        ValidationErrorKind::Enum { options } => {
            let rendered =
                kw("enum").map_or_else(|| py_str(&crate::convert::from_serde(options)), py_str);
            format!("{name} must be one of {rendered}")
        }
        ValidationErrorKind::Constant { expected_value } => {
            let rendered = kw("const").map_or_else(
                || py_str(&crate::convert::from_serde(expected_value)),
                py_str,
            );
            format!("{name} must be same as const definition: {rendered}")
        }
        ValidationErrorKind::Required { .. } => {
            let mut missing: Vec<String> = candidates
                .iter()
                .filter(|c| c.rank == first.rank && c.instance_path == first.instance_path)
                .filter_map(|c| match c.error.kind() {
                    ValidationErrorKind::Required { property } => {
                        property.as_str().map(str::to_owned)
                    }
                    _ => None,
                })
                .collect();
            missing.sort();
            missing.dedup();
            let list = Value::Array(missing.into_iter().map(Value::String).collect());
            format!("{name} must contain {} properties", py_repr(&list))
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let set: Vec<String> = unexpected.iter().map(|k| py_str_repr(k)).collect();
            format!("{name} must not contain {{{}}} properties", set.join(", "))
        }
        ValidationErrorKind::AnyOf { .. } => {
            format!("{name} cannot be validated by any definition")
        }
        ValidationErrorKind::OneOfNotValid { .. } => {
            format!("{name} must be valid exactly by one definition (0 matches found)")
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => {
            format!("{name} must be valid exactly by one definition (2 matches found)")
        }
        ValidationErrorKind::Not { .. } => format!("{name} must NOT match a disallowed definition"),
        ValidationErrorKind::Minimum { limit } => {
            let exclusive = matches!(kw("exclusiveMinimum"), Some(Value::Bool(true)));
            let l = kw_str("minimum", py_str(&crate::convert::from_serde(limit)));
            if exclusive {
                format!("{name} must be bigger than {l}")
            } else {
                format!("{name} must be bigger than or equal to {l}")
            }
        }
        ValidationErrorKind::Maximum { limit } => {
            let exclusive = matches!(kw("exclusiveMaximum"), Some(Value::Bool(true)));
            let l = kw_str("maximum", py_str(&crate::convert::from_serde(limit)));
            if exclusive {
                format!("{name} must be smaller than {l}")
            } else {
                format!("{name} must be smaller than or equal to {l}")
            }
        }
        ValidationErrorKind::ExclusiveMinimum { limit } => {
            let l = match kw("exclusiveMinimum") {
                Some(Value::Number(n)) => crate::pyrepr::py_number(*n),
                _ => kw_str("minimum", py_str(&crate::convert::from_serde(limit))),
            };
            format!("{name} must be bigger than {l}")
        }
        ValidationErrorKind::ExclusiveMaximum { limit } => {
            let l = match kw("exclusiveMaximum") {
                Some(Value::Number(n)) => crate::pyrepr::py_number(*n),
                _ => kw_str("maximum", py_str(&crate::convert::from_serde(limit))),
            };
            format!("{name} must be smaller than {l}")
        }
        ValidationErrorKind::MinLength { limit } => {
            format!(
                "{name} must be longer than or equal to {} characters",
                kw_str("minLength", limit.to_string())
            )
        }
        ValidationErrorKind::MaxLength { limit } => {
            format!(
                "{name} must be shorter than or equal to {} characters",
                kw_str("maxLength", limit.to_string())
            )
        }
        ValidationErrorKind::Pattern { pattern } => format!("{name} must match pattern {pattern}"),
        ValidationErrorKind::Format { format } => format!("{name} must be {format}"),
        ValidationErrorKind::MultipleOf { .. } => {
            format!(
                "{name} must be multiple of {}",
                kw_str("multipleOf", String::new())
            )
        }
        ValidationErrorKind::MinItems { limit } => {
            format!(
                "{name} must contain at least {} items",
                kw_str("minItems", limit.to_string())
            )
        }
        ValidationErrorKind::MaxItems { limit } => {
            format!(
                "{name} must contain less than or equal to {} items",
                kw_str("maxItems", limit.to_string())
            )
        }
        ValidationErrorKind::UniqueItems => format!("{name} must contain unique items"),
        ValidationErrorKind::AdditionalItems { .. } => {
            format!("{name} must contain only specified items")
        }
        ValidationErrorKind::MinProperties { limit } => {
            format!(
                "{name} must contain at least {} properties",
                kw_str("minProperties", limit.to_string())
            )
        }
        ValidationErrorKind::MaxProperties { limit } => format!(
            "{name} must contain less than or equal to {} properties",
            kw_str("maxProperties", limit.to_string())
        ),
        ValidationErrorKind::Contains => format!("{name} must contain one of contains definition"),
        ValidationErrorKind::PropertyNames { .. } => {
            format!("{name} must be named by propertyName definition")
        }
        ValidationErrorKind::FalseSchema => format!("{name} must not be there"),
        _ => format!("{name} {}", first.error),
    }
}

/// The reference engine's first failed property dependency: dependencies in schema order,
/// each one's list in order.
fn first_missing_dependency(
    holder: Option<&Map>,
    instance: Option<&Value>,
) -> Option<(String, String)> {
    let deps = holder?.get("dependencies")?.as_object()?;
    let obj = instance?.as_object()?;
    for (key, required) in deps.iter() {
        if !obj.contains_key(key) {
            continue;
        }
        if let Value::Array(list) = required {
            for r in list {
                if let Value::String(name) = r
                    && !obj.contains_key(name)
                {
                    return Some((key.clone(), name.clone()));
                }
            }
        }
    }
    None
}

/// The instance value at a JSON pointer.
fn value_at<'v>(data: &'v Value, pointer: &str) -> Option<&'v Value> {
    let mut cur = data;
    for raw in pointer.split('/').filter(|s| !s.is_empty()) {
        let seg = raw.replace("~1", "/").replace("~0", "~");
        cur = match cur {
            Value::Object(m) => m.get(&seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// The engine's name for an instance location: `data`, then `.key` per member and `[i]` per
/// array item.
fn engine_name(data: &Value, segments: impl Iterator<Item = String>) -> String {
    let mut name = String::from("data");
    let mut cur = Some(data);
    for seg in segments {
        match cur {
            Some(Value::Array(a)) => {
                name.push('[');
                name.push_str(&seg);
                name.push(']');
                cur = seg.parse::<usize>().ok().and_then(|i| a.get(i));
            }
            Some(Value::Object(m)) => {
                name.push('.');
                name.push_str(&seg);
                cur = m.get(&seg);
            }
            _ => {
                name.push('.');
                name.push_str(&seg);
                cur = None;
            }
        }
    }
    name
}

/// The reference's translation of an engine message (spec §12.1 table), a faithful port of
/// its regular expressions (`.` stops at a line break; greedy groups).
#[must_use]
pub fn translate(msg: &str, data: &Value) -> String {
    let msg = rewrite_indices(msg);
    if msg.contains("cannot be validated by any definition") || msg.contains("anyOf") {
        return "Value does not match any schemas".to_owned();
    }
    let line = msg.split('\n').next().unwrap_or_default();

    // data(\.(.*)|) must be one of (.*)
    const ONE_OF: &str = " must be one of ";
    let enum_match = line
        .strip_prefix("data.")
        .and_then(|rest| {
            rest.rfind(ONE_OF)
                .map(|p| (Some(&rest[..p]), &rest[p + ONE_OF.len()..]))
        })
        .or_else(|| line.strip_prefix("data must be one of ").map(|l| (None, l)));
    if let Some((path, list)) = enum_match {
        let val = get_by_path(data, path.unwrap_or(""));
        let prefix = match path {
            Some(p) if !p.is_empty() => field_prefix(p.split('.')),
            _ => String::new(),
        };
        let shown = val.map_or_else(|| "None".to_owned(), py_str);
        return format!("{prefix}Value '{shown}' is not allowed. Must be one of: {list}");
    }

    // data(.*) must contain \[(.*)\]
    if let Some(rest) = line.strip_prefix("data")
        && let Some((path, field)) = split_last(rest, " must contain [", "]")
    {
        let field_name = field.trim_matches(['\'', '"']);
        let prefix = field_prefix(
            path.split('.')
                .map(|p| p.trim_matches('.'))
                .filter(|p| !p.is_empty()),
        );
        return format!("{prefix}Missing required field: '{field_name}'");
    }

    // data(.*) must not contain \{(.*)\} properties
    if let Some(rest) = line.strip_prefix("data")
        && let Some((path, field)) = split_last(rest, " must not contain {", "} properties")
    {
        let field_name = field.trim_matches(['\'', '"']);
        let prefix = field_prefix(
            path.split('.')
                .map(|p| p.trim_matches('.'))
                .filter(|p| !p.is_empty()),
        );
        return format!("{prefix}Unexpected field: '{field_name}'");
    }

    // data\.(.*) must be (.*)
    const MUST_BE: &str = " must be ";
    if let Some(rest) = line.strip_prefix("data.")
        && let Some(p) = rest.rfind(MUST_BE)
    {
        let path = &rest[..p];
        let expected = &rest[p + MUST_BE.len()..];
        let parts: Vec<&str> = path.split('.').collect();
        let (last, init) = parts.split_last().unwrap_or((&"", &[]));
        if !last.is_empty() && last.chars().all(|c| c.is_ascii_digit()) {
            if let Some((array_field, outer)) = init.split_last() {
                let prefix = field_prefix(outer.iter().copied());
                return format!(
                    "{prefix}Field '{array_field}': Item at index {last}: Expected {expected}"
                );
            }
            return format!("Item at index {last}: Expected {expected}");
        }
        let prefix = field_prefix(init.iter().copied());
        let val = get_by_path(data, path);
        if val.is_none_or(Value::is_null) {
            return format!("{prefix}Field '{last}': Expected {expected}, got null");
        }
        return format!("{prefix}Field '{last}': Expected {expected}");
    }

    // data must be (.*)
    if let Some(expected) = line.strip_prefix("data must be ") {
        if data.is_null() {
            return format!("Expected {expected}, got null");
        }
        return format!("Expected {expected}");
    }
    msg
}

/// `[N]` → `.N` everywhere.
fn rewrite_indices(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && after.as_bytes().get(digits) == Some(&b']') {
            out.push_str(&rest[..open]);
            out.push('.');
            out.push_str(&after[..digits]);
            rest = &after[digits + 1..];
        } else {
            out.push_str(&rest[..=open]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// `(.*)<open>(.*)<close>` with both groups greedy: the last `open` that has a `close` after
/// it, and the last `close`.
fn split_last<'a>(s: &'a str, open: &str, close: &str) -> Option<(&'a str, &'a str)> {
    let mut end = s.len();
    while let Some(p) = s[..end].rfind(open) {
        let after = &s[p + open.len()..];
        if let Some(q) = after.rfind(close) {
            return Some((&s[..p], &after[..q]));
        }
        end = p + open.len() - 1;
        if end == 0 {
            break;
        }
    }
    None
}

fn field_prefix<'a>(parts: impl Iterator<Item = &'a str>) -> String {
    parts.map(|p| format!("Field '{p}': ")).collect()
}

/// The reference's `_get_val_by_path`: `None` when a step does not resolve.
fn get_by_path<'v>(data: &'v Value, path: &str) -> Option<&'v Value> {
    if path.is_empty() {
        return Some(data);
    }
    let mut cur = data;
    for p in path.split('.') {
        cur = match cur {
            Value::Object(m) if m.contains_key(p) => m.get(p)?,
            Value::Array(a) if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) => {
                a.get(p.parse::<usize>().ok()?)?
            }
            _ => return None,
        };
    }
    Some(cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rxon_core::json;

    #[test]
    fn translation_table() {
        let d = json::from_str(r#"{"a":{"b":null},"c":[1,"x"],"e":"z"}"#).unwrap();
        assert_eq!(
            translate("data.e must be one of ['x', 'y']", &d),
            "Field 'e': Value 'z' is not allowed. Must be one of: ['x', 'y']"
        );
        assert_eq!(
            translate("data must contain ['b', 'c'] properties", &d),
            "Missing required field: 'b', 'c'"
        );
        assert_eq!(
            translate("data.a must contain ['q'] properties", &d),
            "Field 'a': Missing required field: 'q'"
        );
        assert_eq!(
            translate("data must not contain {'zz'} properties", &d),
            "Unexpected field: 'zz'"
        );
        assert_eq!(
            translate("data.c[1] must be integer", &d),
            "Field 'c': Item at index 1: Expected integer"
        );
        assert_eq!(
            translate("data[3] must be integer", &d),
            "Item at index 3: Expected integer"
        );
        assert_eq!(
            translate("data.a.b must be string", &d),
            "Field 'a': Field 'b': Expected string, got null"
        );
        assert_eq!(
            translate("data.e must be integer", &d),
            "Field 'e': Expected integer"
        );
        assert_eq!(
            translate("data must be object", &Value::Null),
            "Expected object, got null"
        );
        assert_eq!(
            translate("data must match pattern ^z", &d),
            "data must match pattern ^z"
        );
        assert_eq!(
            translate("data.x cannot be validated by any definition", &d),
            "Value does not match any schemas"
        );
    }

    #[test]
    fn cache_key_is_the_sorted_json() {
        let s = json::from_str(
            r#"{"type":"object","properties":{"b":{"type":"integer"},"a":{"enum":[2.0,"x"]}}}"#,
        )
        .unwrap();
        let m = s.as_object().unwrap();
        assert_eq!(canonical_key(m), json::to_string_sorted(&s));
    }

    #[test]
    fn cache_identity_is_the_canonical_text() {
        let cache = SchemaCache::new();
        let a = json::from_str(
            r#"{"type":"object","properties":{"x":{"minimum":1},"y":{"enum":[1,"a"]}}}"#,
        )
        .unwrap();
        let b = json::from_str(
            r#"{"properties":{"y":{"enum":[1,"a"]},"x":{"minimum":1}},"type":"object"}"#,
        )
        .unwrap();
        let c = json::from_str(
            r#"{"type":"object","properties":{"x":{"minimum":1.0},"y":{"enum":[1,"a"]}}}"#,
        )
        .unwrap();
        let d = json::from_str(
            r#"{"type":"object","properties":{"x":{"minimum":1},"y":{"enum":["a",1]}}}"#,
        )
        .unwrap();
        let (a, b, c, d) = (
            a.as_object().unwrap(),
            b.as_object().unwrap(),
            c.as_object().unwrap(),
            d.as_object().unwrap(),
        );
        assert_eq!(canonical_key(a), canonical_key(b));
        assert_eq!(fingerprint_map(a), fingerprint_map(b));
        let first = cache.get(a);
        assert!(Arc::ptr_eq(&first, &cache.get(b)));
        assert_eq!(cache.len(), 1);
        for other in [c, d] {
            assert_ne!(canonical_key(a), canonical_key(other));
            assert!(!Arc::ptr_eq(&first, &cache.get(other)));
        }
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn cache_is_bounded() {
        let cache = SchemaCache::new();
        for i in 0..(CACHE_CAPACITY + 10) {
            let s = json::from_str(&format!(r#"{{"type":"integer","minimum":{i}}}"#)).unwrap();
            let c = cache.get(s.as_object().unwrap());
            assert!(c.is_compiled());
        }
        assert_eq!(cache.len(), CACHE_CAPACITY);
    }
}
