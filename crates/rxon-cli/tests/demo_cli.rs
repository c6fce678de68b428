//! `rxon demo`: the README's main job, end to end on loopback, for both protocol profiles.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

fn demo(profile: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_rxon"))
        .args([
            "demo",
            "--workers",
            "3",
            "--tasks",
            "60",
            "--profile",
            profile,
            "--timeout",
            "60",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{profile}: exit {:?}\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("3 registered"), "{stdout}");
    assert!(
        stdout.contains("cancel_task pushed over the WebSocket"),
        "{stdout}"
    );
    assert!(
        stdout.contains("60/60 finished, 60 echoed back exactly"),
        "{stdout}"
    );
    assert!(stdout.contains("result:       ok"), "{stdout}");
    // Every signed message was accepted: nothing refused, no failed heartbeat.
    assert!(
        !stderr.contains("refused") && !stderr.contains("failed"),
        "{profile}:\n{stderr}"
    );
}

#[test]
fn demo_runs_under_1_0b17() {
    demo("1.0b17");
}

#[test]
fn demo_runs_under_1_0b9() {
    demo("1.0b9");
}
