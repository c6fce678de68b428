//! Capability matching (spec §11): does what a worker advertises satisfy a requirement?
//!
//! [`Resources`], [`HardwareDevice`] and [`InstalledArtifact`] match in both protocol versions,
//! [`SkillInfo`] in 1.0b17 only. Every matcher reproduces the reference's decisions exactly,
//! for the version chosen in [`MatchOptions`] (default 1.0b17):
//!
//! * **Property maps** (`properties`): every member of the requirement's map must be satisfied,
//!   in map order. A worker value that is missing or `null` fails. Two numbers compare
//!   `worker >= requirement` — and **booleans are numbers** (`true` = 1, `false` = 0). Anything
//!   else compares by equality, where `1 == 1.0 == true` and objects compare member-wise.
//!   1.0b17 adds list rules: a required list is satisfied by a worker list sharing at least one
//!   item, or by a worker scalar that is one of its items; a required scalar is satisfied by a
//!   worker list containing it (no `>=` then). An empty or absent requirement map always
//!   matches.
//! * **Devices**: a non-empty `type` must be equal, a non-empty `model` must be a
//!   case-insensitive substring of the worker's model (full Unicode lower-casing), a non-empty
//!   `id` must be equal, then the property-map rule; `metrics` are never compared.
//! * **Resources**: 1.0b9 first compares `cpu_cores` and `ram_gb` (`worker >= requirement`,
//!   a requirement of 0 is skipped; 1.0b17 ignores both). Then every required device must be
//!   assigned its own worker device (see below), then the property-map rule.
//! * **Artifacts**: equal `name`; equal `version` unless the requirement's is `unknown` (the
//!   default); then the property-map rule. `type` is never compared.
//! * **Skills** (1.0b17): equal `name`; equal `type` and `version` when the requirement sets
//!   them (`""` is a real value there, not a wildcard).
//!
//! # Device assignment: greedy or exact
//!
//! The reference assigns required devices **greedily**: each required device, in order, takes
//! the first still-free worker device that satisfies it. That can refuse a worker although a
//! valid one-to-one assignment exists — a worker with an RTX 4090 and an RTX 3090 fails the
//! requirement `[{"type":"gpu"}, {"type":"gpu","model":"4090"}]` because the wildcard takes
//! the 4090 first, while the same requirement in the other order matches.
//! [`DeviceAssignment::Greedy`] (the default) reproduces this, so that every implementation in
//! a deployment makes the same dispatch decision. [`DeviceAssignment::Exact`] instead searches
//! for a maximum bipartite matching (augmenting paths): it matches whenever any valid
//! assignment exists, so it accepts everything greedy accepts and more. Exact assignment costs
//! at most `required × worker` device comparisons plus the path search, and it evaluates
//! every pair when greedy fails, so an error (below) in any pair is reported.
//!
//! # Errors
//!
//! The 1.0b17 list rules put list items into sets; the reference raises when an item is an
//! array or an object (`unhashable type`), as when a required list meets a worker object. The
//! `try_matches` methods return that as [`MatchError::Unhashable`]; `matches` and
//! `matches_with` answer `false` for it (such a requirement can never be satisfied by the
//! reference either). Skill matching under 1.0b9 is [`MatchError::NotAvailable`].
//!
//! ```
//! use rxon_core::{json, Model, Resources};
//! let worker = Resources::from_value(&json!({
//!     "devices": [{"type": "gpu", "model": "NVIDIA RTX 4090", "properties": {"vram_gb": 24}}],
//!     "properties": {"cpu_cores": 16, "ram_gb": 64}
//! })).unwrap();
//! let need = Resources::from_value(&json!({
//!     "devices": [{"type": "gpu", "properties": {"vram_gb": 16}}],
//!     "properties": {"cpu_cores": 4, "ram_gb": 16}
//! })).unwrap();
//! assert!(worker.matches(&need));
//! ```

mod assign;
mod value_rules;

use crate::error::DecodeError;
use crate::model::{HardwareDevice, InstalledArtifact, Model, Resources, SkillInfo};
use crate::value::{Map, Value};
use crate::wire::ProtocolVersion;
use std::fmt;
use std::str::FromStr;

/// How required devices are assigned to a worker's devices (see the [module docs](self)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeviceAssignment {
    /// The reference's greedy first fit: identical decisions to every other implementation.
    #[default]
    Greedy,
    /// Maximum bipartite matching: matches whenever a one-to-one assignment exists.
    Exact,
}

/// Options of a match: the protocol version whose rules apply and the device assignment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct MatchOptions {
    /// Whose rules: 1.0b9 or 1.0b17 (default).
    pub version: ProtocolVersion,
    /// Greedy (default) or exact device assignment.
    pub assignment: DeviceAssignment,
}

impl MatchOptions {
    /// The rules of `version`, with greedy device assignment.
    #[must_use]
    pub fn new(version: ProtocolVersion) -> Self {
        Self {
            version,
            assignment: DeviceAssignment::Greedy,
        }
    }

    /// The same options with another device assignment.
    #[must_use]
    pub fn with_assignment(mut self, assignment: DeviceAssignment) -> Self {
        self.assignment = assignment;
        self
    }
}

/// What can be matched (the `kind` of a match request).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MatchKind {
    /// [`Resources`].
    Resources,
    /// [`HardwareDevice`].
    Device,
    /// [`InstalledArtifact`].
    Artifact,
    /// [`SkillInfo`] (1.0b17 only).
    Skill,
}

impl MatchKind {
    /// The kind's name: `resources`, `device`, `artifact` or `skill`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resources => "resources",
            Self::Device => "device",
            Self::Artifact => "artifact",
            Self::Skill => "skill",
        }
    }

    /// The model's name (`Resources`, `HardwareDevice`, ...).
    #[must_use]
    pub fn model_name(self) -> &'static str {
        match self {
            Self::Resources => Resources::NAME,
            Self::Device => HardwareDevice::NAME,
            Self::Artifact => InstalledArtifact::NAME,
            Self::Skill => SkillInfo::NAME,
        }
    }
}

impl fmt::Display for MatchKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown match kind name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownKind(pub String);

impl fmt::Display for UnknownKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown kind {:?} (expected resources, device, artifact or skill)",
            self.0
        )
    }
}

impl std::error::Error for UnknownKind {}

impl FromStr for MatchKind {
    type Err = UnknownKind;
    /// Accepts `resources`, `device`, `artifact`, `skill`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "resources" => Ok(Self::Resources),
            "device" => Ok(Self::Device),
            "artifact" => Ok(Self::Artifact),
            "skill" => Ok(Self::Skill),
            _ => Err(UnknownKind(s.to_owned())),
        }
    }
}

/// Which side of a match a value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// What the worker advertises.
    Worker,
    /// What the task requires.
    Requirement,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Worker => "worker",
            Self::Requirement => "requirement",
        })
    }
}

/// Why a match could not be decided.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MatchError {
    /// A 1.0b17 list rule met an array or object where a set item is needed (the reference
    /// raises `TypeError: unhashable type`).
    Unhashable {
        /// The reference's name of the offending type: `list` or `dict`.
        type_name: &'static str,
    },
    /// This kind has no matcher in this version (skills under 1.0b9).
    NotAvailable {
        /// The kind asked for.
        kind: MatchKind,
        /// The version asked for.
        version: ProtocolVersion,
    },
    /// A JSON value did not decode as the model ([`match_values`] only).
    Decode {
        /// Which value.
        side: Side,
        /// The decoding error.
        error: DecodeError,
    },
}

impl fmt::Display for MatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unhashable { type_name } => write!(f, "unhashable type: '{type_name}'"),
            Self::NotAvailable { kind, version } => {
                write!(
                    f,
                    "{} matching is not available in {version}",
                    kind.model_name()
                )
            }
            Self::Decode { side, error } => write!(f, "{side}: {error}"),
        }
    }
}

impl std::error::Error for MatchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Decode { error, .. } => Some(error),
            _ => None,
        }
    }
}

macro_rules! convenience {
    ($t:ty) => {
        impl $t {
            /// Whether `self` (the worker's) satisfies `requirement`, by the 1.0b17 rules with
            /// greedy device assignment; a requirement that cannot be decided (see
            /// [`MatchError`]) does not match.
            #[must_use]
            pub fn matches(&self, requirement: &Self) -> bool {
                self.matches_with(requirement, &MatchOptions::default())
            }

            /// As `matches`, with explicit options.
            #[must_use]
            pub fn matches_with(&self, requirement: &Self, options: &MatchOptions) -> bool {
                self.try_matches(requirement, options).unwrap_or(false)
            }
        }
    };
}

convenience!(Resources);
convenience!(HardwareDevice);
convenience!(InstalledArtifact);
convenience!(SkillInfo);

/// Whether `needle` is a substring of `hay` after lower-casing both (full Unicode rules, as
/// the reference's `str.lower`), without allocating for ASCII text.
fn contains_lowercase(hay: &str, needle: &str) -> bool {
    if hay.is_ascii() && needle.is_ascii() {
        let (h, n) = (hay.as_bytes(), needle.as_bytes());
        return n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    hay.to_lowercase().contains(&needle.to_lowercase())
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

impl HardwareDevice {
    /// Whether this (worker) device satisfies the required device `requirement` (spec §11.2).
    ///
    /// # Errors
    /// [`MatchError::Unhashable`] when a 1.0b17 list rule meets an array or object item.
    pub fn try_matches(
        &self,
        requirement: &Self,
        options: &MatchOptions,
    ) -> Result<bool, MatchError> {
        let req = requirement;
        if !req.r#type.is_empty() && self.r#type != req.r#type {
            return Ok(false);
        }
        if let Some(model) = non_empty(req.model.as_deref()) {
            match non_empty(self.model.as_deref()) {
                Some(have) if contains_lowercase(have, model) => {}
                _ => return Ok(false),
            }
        }
        if let Some(id) = non_empty(req.id.as_deref())
            && self.id.as_deref() != Some(id)
        {
            return Ok(false);
        }
        value_rules::properties_ok(
            self.properties.as_ref(),
            req.properties.as_ref(),
            options.version,
        )
    }
}

impl Resources {
    /// Whether these (worker) resources satisfy `requirement` (spec §11.3).
    ///
    /// # Errors
    /// [`MatchError::Unhashable`] when a 1.0b17 list rule meets an array or object item.
    pub fn try_matches(
        &self,
        requirement: &Self,
        options: &MatchOptions,
    ) -> Result<bool, MatchError> {
        let req = requirement;
        if options.version == ProtocolVersion::V1_0b9 {
            if let Some(cores) = req.cpu_cores.filter(|&c| c != 0)
                && self.cpu_cores.unwrap_or(0) < cores
            {
                return Ok(false);
            }
            if let Some(ram) = req.ram_gb.filter(|&r| r != 0.0)
                && self.ram_gb.unwrap_or(0.0) < ram
            {
                return Ok(false);
            }
        }
        if let Some(required) = req.devices.as_deref().filter(|d| !d.is_empty()) {
            let have = self.devices.as_deref().unwrap_or_default();
            let ok = match options.assignment {
                DeviceAssignment::Greedy => assign::greedy(have, required, options)?,
                DeviceAssignment::Exact => assign::exact(have, required, options)?,
            };
            if !ok {
                return Ok(false);
            }
        }
        value_rules::properties_ok(
            self.properties.as_ref(),
            req.properties.as_ref(),
            options.version,
        )
    }
}

impl InstalledArtifact {
    /// Whether this (installed) artifact satisfies `requirement` (spec §11.4).
    ///
    /// # Errors
    /// [`MatchError::Unhashable`] when a 1.0b17 list rule meets an array or object item.
    pub fn try_matches(
        &self,
        requirement: &Self,
        options: &MatchOptions,
    ) -> Result<bool, MatchError> {
        let req = requirement;
        if self.name != req.name {
            return Ok(false);
        }
        if req.version() != "unknown" && req.version() != self.version() {
            return Ok(false);
        }
        value_rules::properties_ok(
            self.properties.as_ref(),
            req.properties.as_ref(),
            options.version,
        )
    }
}

impl SkillInfo {
    /// Whether this (offered) skill satisfies `requirement` (spec §11.5).
    ///
    /// # Errors
    /// [`MatchError::NotAvailable`] under 1.0b9, which has no skill matcher.
    pub fn try_matches(
        &self,
        requirement: &Self,
        options: &MatchOptions,
    ) -> Result<bool, MatchError> {
        if options.version == ProtocolVersion::V1_0b9 {
            return Err(MatchError::NotAvailable {
                kind: MatchKind::Skill,
                version: options.version,
            });
        }
        let req = requirement;
        if self.name != req.name {
            return Ok(false);
        }
        if req.r#type.is_some() && self.r#type != req.r#type {
            return Ok(false);
        }
        Ok(req.version.is_none() || self.version == req.version)
    }
}

/// Members of `Resources` that exist in 1.0b9 only; a 1.0b17 receiver ignores them.
const B9_ONLY_RESOURCES: [&str; 3] = ["max_concurrent_tasks", "cpu_cores", "ram_gb"];

fn decode<M: Model>(v: &Value, side: Side) -> Result<M, MatchError> {
    M::from_value(v).map_err(|error| MatchError::Decode { side, error })
}

fn decode_resources(
    v: &Value,
    side: Side,
    version: ProtocolVersion,
) -> Result<Resources, MatchError> {
    match v.as_object() {
        // A 1.0b17 receiver ignores the 1.0b9-only members, whatever their type.
        Some(obj)
            if version == ProtocolVersion::V1_0b17
                && B9_ONLY_RESOURCES.iter().any(|k| obj.contains_key(k)) =>
        {
            let kept: Map = obj
                .iter()
                .filter(|(k, _)| !B9_ONLY_RESOURCES.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            decode(&Value::Object(kept), side)
        }
        _ => decode(v, side),
    }
}

/// Decodes `worker` and `requirement` as the model of `kind` and matches them: what a
/// receiver of that version decides for two JSON objects (1.0b17 ignores the 1.0b9-only
/// members of `Resources`, so their types do not matter there).
///
/// # Errors
/// [`MatchError::Decode`] when a value does not decode, and the errors of the matchers.
pub fn match_values(
    kind: MatchKind,
    worker: &Value,
    requirement: &Value,
    options: &MatchOptions,
) -> Result<bool, MatchError> {
    fn run<M: Model>(
        w: &Value,
        r: &Value,
        f: impl Fn(&M, &M) -> Result<bool, MatchError>,
    ) -> Result<bool, MatchError> {
        let w: M = decode(w, Side::Worker)?;
        let r: M = decode(r, Side::Requirement)?;
        f(&w, &r)
    }
    match kind {
        MatchKind::Resources => {
            let w = decode_resources(worker, Side::Worker, options.version)?;
            let r = decode_resources(requirement, Side::Requirement, options.version)?;
            w.try_matches(&r, options)
        }
        MatchKind::Device => run(worker, requirement, |w: &HardwareDevice, r| {
            w.try_matches(r, options)
        }),
        MatchKind::Artifact => run(worker, requirement, |w: &InstalledArtifact, r| {
            w.try_matches(r, options)
        }),
        MatchKind::Skill => {
            if options.version == ProtocolVersion::V1_0b9 {
                return Err(MatchError::NotAvailable {
                    kind,
                    version: options.version,
                });
            }
            run(worker, requirement, |w: &SkillInfo, r| {
                w.try_matches(r, options)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    fn dev(v: Value) -> HardwareDevice {
        HardwareDevice::from_value(&v).unwrap()
    }

    #[test]
    fn model_is_a_case_insensitive_substring() {
        let have = dev(json!({"type": "gpu", "model": "NVIDIA RTX 4090"}));
        assert!(have.matches(&dev(json!({"type": "gpu", "model": "rtx 40"}))));
        assert!(have.matches(&dev(json!({"type": "", "model": ""}))));
        assert!(!have.matches(&dev(json!({"type": "gpu", "model": "RTX4090"}))));
        let greek = dev(json!({"type": "gpu", "model": "ΟΔΟΣ"}));
        assert!(greek.matches(&dev(json!({"type": "gpu", "model": "οδος"}))));
    }

    #[test]
    fn greedy_and_exact_assignment_differ() {
        let worker = Resources::from_value(&json!({"devices": [
            {"type": "gpu", "model": "NVIDIA RTX 4090"}, {"type": "gpu", "model": "NVIDIA RTX 3090"}
        ]}))
        .unwrap();
        let req = Resources::from_value(
            &json!({"devices": [{"type": "gpu"}, {"type": "gpu", "model": "4090"}]}),
        )
        .unwrap();
        assert!(!worker.matches(&req));
        let exact = MatchOptions::default().with_assignment(DeviceAssignment::Exact);
        assert!(worker.matches_with(&req, &exact));
    }

    #[test]
    fn b9_compares_cores_and_ram_and_b17_ignores_them() {
        let worker = Resources::from_value(&json!({"cpu_cores": 4, "ram_gb": 8.0})).unwrap();
        let req = Resources::from_value(&json!({"cpu_cores": 8})).unwrap();
        assert!(!worker.matches_with(&req, &MatchOptions::new(ProtocolVersion::V1_0b9)));
        assert!(worker.matches(&req));
        let w = json!({"ram_gb": 32});
        let r = json!({"ram_gb": "16"});
        assert_eq!(
            match_values(MatchKind::Resources, &w, &r, &MatchOptions::default()),
            Ok(true)
        );
        assert!(matches!(
            match_values(
                MatchKind::Resources,
                &w,
                &r,
                &MatchOptions::new(ProtocolVersion::V1_0b9)
            ),
            Err(MatchError::Decode {
                side: Side::Requirement,
                ..
            })
        ));
    }

    #[test]
    fn errors_and_availability() {
        let have = dev(json!({"type": "gpu", "properties": {"f": [[1]]}}));
        let opts = MatchOptions::default();
        assert_eq!(
            have.try_matches(&have, &opts),
            Err(MatchError::Unhashable { type_name: "list" })
        );
        assert!(!have.matches(&have));
        assert!(have.matches_with(&have, &MatchOptions::new(ProtocolVersion::V1_0b9)));
        let s = SkillInfo::new("echo");
        assert!(s.matches(&s));
        let err = s
            .try_matches(&s, &MatchOptions::new(ProtocolVersion::V1_0b9))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "SkillInfo matching is not available in 1.0b9"
        );
        assert_eq!("skill".parse::<MatchKind>(), Ok(MatchKind::Skill));
        assert!("skills".parse::<MatchKind>().is_err());
    }
}
