//! Quick start: would this worker take this task? Then a task decoded and re-encoded.
//!
//! Run with `cargo run --example quickstart`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rxon::{DeviceAssignment, MatchOptions, Model, ProtocolVersion, Resources, TaskPayload, json};

fn main() {
    // What a worker advertises when it registers: one RTX 4090 with 24 GB, 16 cores, 64 GB.
    let worker = Resources::from_value(&json!({
        "devices": [{"type": "gpu", "model": "NVIDIA RTX 4090", "properties": {"vram_gb": 24}}],
        "properties": {"cpu_cores": 16, "ram_gb": 64}
    }))
    .expect("valid resources");

    // What a task needs: 4 cores, 16 GB of RAM and a GPU with at least 16 GB.
    let requirement = Resources::from_value(&json!({
        "devices": [{"type": "gpu", "properties": {"vram_gb": 16}}],
        "properties": {"cpu_cores": 4, "ram_gb": 16}
    }))
    .expect("valid requirement");

    let verdict = |ok: bool| if ok { "yes" } else { "no" };
    println!("Worker: 1 x NVIDIA RTX 4090 (24 GB), 16 cores, 64 GB RAM");
    println!("Task:   a GPU with >= 16 GB, >= 4 cores, >= 16 GB RAM");
    println!(
        "Match (1.0b17 rules):  {}",
        verdict(worker.matches(&requirement))
    );

    // Numbers compare `worker >= requirement`; a bigger requirement does not match.
    let too_big = Resources::from_value(&json!({
        "devices": [{"type": "gpu", "model": "rtx 4090", "properties": {"vram_gb": 48}}]
    }))
    .expect("valid requirement");
    println!(
        "Needs a 4090 with 48 GB: {}",
        verdict(worker.matches(&too_big))
    );

    // The same decision under 1.0b9 rules, and with exact device assignment.
    let b9 = MatchOptions::new(ProtocolVersion::V1_0b9);
    let exact = MatchOptions::default().with_assignment(DeviceAssignment::Exact);
    println!(
        "Match (1.0b9 rules):   {}",
        verdict(worker.matches_with(&requirement, &b9))
    );
    println!(
        "Match (exact devices): {}",
        verdict(worker.matches_with(&requirement, &exact))
    );

    // A task as an orchestrator sends it (integers, floats and nesting are kept exactly).
    let wire = br#"{"job_id":"job-1","task_id":"task-1","type":"resize","params":{"width":1920,"scale":0.5,"tags":["hd"]},"priority":1.0,"timestamp":1767225600}"#;
    let task = TaskPayload::from_json(wire).expect("a valid TaskPayload");
    println!();
    println!(
        "Task {} of job {}: type {:?}",
        task.task_id, task.job_id, task.r#type
    );
    let params = task.params.as_ref().expect("params");
    println!(
        "  width = {}, scale = {}",
        params.get("width").unwrap(),
        params.get("scale").unwrap()
    );
    println!(
        "  re-encoded (1.0b17): {}",
        task.to_json(ProtocolVersion::V1_0b17).expect("encodable")
    );
    println!(
        "  re-encoded (1.0b9):  {}",
        task.to_json(ProtocolVersion::V1_0b9).expect("encodable")
    );
}
