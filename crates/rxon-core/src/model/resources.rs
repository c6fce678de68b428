//! What a worker advertises: devices, resources, usage, artifacts, skills, capabilities.

use super::model;
use crate::value::{Map, Value};

model! {
    /// A hardware device of a worker (GPU, NPU, ...), or a required one (spec §4.1).
    HardwareDevice {
        /// Device kind (`gpu`, `npu`, ...). In a requirement, `""` is a wildcard.
        r#type: String = req as "type",
        /// Model name (`NVIDIA RTX 4090`); requirements match it as a case-insensitive substring.
        model: Option<String> = opt as "model",
        /// Device identifier.
        id: Option<String> = opt as "id",
        /// Free-form properties (`{"vram_gb": 24}`), compared by the property-map rule.
        properties: Option<Map> = opt as "properties",
        /// Live metrics; never compared.
        metrics: Option<Map> = opt as "metrics",
    }
}

impl HardwareDevice {
    /// A device of the given type.
    #[must_use]
    pub fn new(device_type: impl Into<String>) -> Self {
        Self {
            r#type: device_type.into(),
            ..Self::default()
        }
    }
}

model! {
    /// Load of one device, in a heartbeat's usage (spec §4.2).
    DeviceUsage {
        /// Device id.
        unit_id: String = req as "unit_id",
        /// Load in percent.
        load_percent: f64 = req as "load_percent",
        /// Free-form metrics.
        metrics: Option<Map> = opt as "metrics",
    }
}

model! {
    /// Resource usage reported in heartbeats (spec §4.3).
    ResourcesUsage {
        /// CPU load in percent (default 0.0).
        cpu_load_percent: Option<f64> = def(0.0) as "cpu_load_percent",
        /// RAM used in GB (default 0.0).
        ram_used_gb: Option<f64> = def(0.0) as "ram_used_gb",
        /// Per-device usage.
        devices_usage: Option<Vec<DeviceUsage>> = opt as "devices_usage",
    }
}

model! {
    /// A worker's resources, or a task's resource requirement (spec §4.4).
    ///
    /// `max_concurrent_tasks`, `cpu_cores` and `ram_gb` exist in 1.0b9 only: they are decoded
    /// from any message, written only under 1.0b9, and compared only by the 1.0b9 matcher.
    Resources {
        /// 1.0b9 only: concurrency limit (default 1); never compared.
        max_concurrent_tasks: Option<i64> = b9_def_int(1) as "max_concurrent_tasks",
        /// 1.0b9 only: CPU cores (requirement `0`/absent is skipped).
        cpu_cores: Option<i64> = b9 as "cpu_cores",
        /// 1.0b9 only: RAM in GB (requirement `0`/absent is skipped).
        ram_gb: Option<f64> = b9 as "ram_gb",
        /// Devices; required devices are assigned to worker devices one to one.
        devices: Option<Vec<HardwareDevice>> = opt as "devices",
        /// Free-form properties (`{"cpu_cores": 8, "ram_gb": 32}` in 1.0b17).
        properties: Option<Map> = opt as "properties",
    }
}

model! {
    /// Installed software or model artifact (spec §4.5).
    InstalledArtifact {
        /// Artifact name (exact match; `""` is not a wildcard).
        name: String = req as "name",
        /// Version (default `unknown`, which as a requirement matches any version).
        version: Option<String> = def(String::from("unknown")) as "version",
        /// Artifact type; never compared.
        r#type: Option<String> = opt as "type",
        /// Free-form properties.
        properties: Option<Map> = opt as "properties",
    }
}

impl InstalledArtifact {
    /// An artifact with the given name and no version.
    #[must_use]
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// The effective version (`unknown` when not sent).
    #[must_use]
    pub fn version(&self) -> &str {
        self.version.as_deref().unwrap_or("unknown")
    }
}

model! {
    /// A skill a worker offers (spec §4.6).
    SkillInfo {
        /// Skill name (the task type it handles).
        name: String = req as "name",
        /// Skill type.
        r#type: Option<String> = opt as "type",
        /// Description.
        description: Option<String> = opt as "description",
        /// Version.
        version: Option<String> = opt as "version",
        /// JSON Schema of the task params.
        input_schema: Option<Map> = opt as "input_schema",
        /// JSON Schema of the result data.
        output_schema: Option<Map> = opt as "output_schema",
        /// Event type → JSON Schema of its payload.
        events_schema: Option<Map> = opt as "events_schema",
        /// Custom result statuses the skill may return.
        output_statuses: Option<Vec<String>> = opt as "output_statuses",
        /// Schema dialect (default `json-schema`).
        schema_dialect: Option<String> = def(String::from("json-schema")) as "schema_dialect",
        /// Free-form properties.
        properties: Option<Map> = opt as "properties",
    }
}

impl SkillInfo {
    /// A skill with the given name.
    #[must_use]
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// The effective schema dialect.
    #[must_use]
    pub fn schema_dialect(&self) -> &str {
        self.schema_dialect.as_deref().unwrap_or("json-schema")
    }
}

model! {
    /// What a worker can do beyond its skills (spec §4.8).
    WorkerCapabilities {
        /// Host name (default `unknown`).
        hostname: Option<String> = def(String::from("unknown")) as "hostname",
        /// IP address (default `0.0.0.0`).
        ip_address: Option<String> = def(String::from("0.0.0.0")) as "ip_address",
        /// Skill name → cost.
        cost_per_skill: Option<Map<f64>> = opt as "cost_per_skill",
        /// Storage configuration hash (16 hex characters, spec §14.3).
        s3_config_hash: Option<String> = opt as "s3_config_hash",
        /// Free-form extras (the worker SDK puts `{"websockets": true}` here).
        extra: Option<Map<Value>> = opt as "extra",
    }
}
