//! The worker runtime (`rxon::worker`) driven through the mock transport: tasks run and
//! report, cancellation by command and by heartbeat answer, progress events, and the drain on
//! shutdown (results sent, `offline` reported, transport closed).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rxon::testing::MockTransport;
use rxon::worker::{Worker, WorkerOptions};
use rxon::{Map, TaskPayload, Value, WorkerCommand, json};
use std::time::Duration;
use tokio::sync::oneshot;

const WAIT: Duration = Duration::from_secs(10);

fn worker(mock: &MockTransport, max_concurrent: usize) -> Worker<MockTransport> {
    let options = WorkerOptions::new("w-1")
        .max_concurrent(max_concurrent)
        .heartbeat_interval(Duration::from_millis(100))
        .poll_timeout(Duration::from_millis(200))
        .drain_timeout(Duration::from_secs(5));
    Worker::new(mock.clone(), options)
        .skill("echo", |task, ctx| async move {
            ctx.progress(0.5, "echoing").await.unwrap();
            let mut data = Map::new();
            data.insert("echo", Value::Object(task.params.unwrap_or_default()));
            Ok(data)
        })
        .skill("wait", |_task, ctx| async move {
            ctx.cancelled().await;
            Ok(Map::new())
        })
        .skill("slow", |_task, _ctx| async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let mut data = Map::new();
            data.insert("done", Value::from(true));
            Ok(data)
        })
}

fn task(id: &str, kind: &str) -> TaskPayload {
    TaskPayload {
        params: json!({"x": 1}).as_object().cloned(),
        ..TaskPayload::new(format!("job-{id}"), id, kind)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_tasks_reports_progress_and_drains() {
    let mock = MockTransport::with_identity("w-1", "tok");
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let run = tokio::spawn(worker(&mock, 2).run(async move {
        let _ = stop_rx.await;
    }));
    mock.push_task(task("t-1", "echo"));
    mock.push_task(task("t-unknown", "nope"));
    assert!(mock.wait_until(WAIT, |m| m.results().len() == 2).await);
    let results = mock.results();
    let echo = results.iter().find(|r| r.task_id == "t-1").unwrap();
    assert!(echo.is_success());
    assert_eq!(echo.worker_id.as_deref(), Some("w-1"));
    assert_eq!(
        echo.data.as_ref().unwrap().get("echo"),
        Some(&json!({"x": 1}))
    );
    let unknown = results.iter().find(|r| r.task_id == "t-unknown").unwrap();
    assert_eq!(unknown.status(), "failure");
    assert_eq!(unknown.error.as_ref().unwrap().code, "PERMANENT_ERROR");
    let events = mock.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "progress");
    assert_eq!(events[0].target_task_id.as_deref(), Some("t-1"));

    let reg = &mock.registrations()[0];
    let skills: Vec<&str> = reg
        .supported_skills
        .as_ref()
        .unwrap()
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(skills, ["echo", "slow", "wait"]);
    assert!(mock.wait_until(WAIT, |m| !m.heartbeats().is_empty()).await);

    // Shutdown while a task runs: it finishes, its result is sent, then `offline`.
    mock.push_task(task("t-slow", "slow"));
    assert!(
        mock.wait_until(WAIT, |m| m.polls() >= 1 && m.results().len() == 2)
            .await
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop_tx.send(()).unwrap();
    tokio::time::timeout(WAIT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let slow = mock
        .results()
        .into_iter()
        .find(|r| r.task_id == "t-slow")
        .expect("the running task finished");
    assert!(slow.is_success());
    let last = mock.heartbeats().last().cloned().flatten().unwrap();
    assert_eq!(last.status, "offline");
    assert!(mock.is_closed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_by_command_and_by_heartbeat_answer() {
    let mock = MockTransport::with_identity("w-1", "tok");
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let run = tokio::spawn(worker(&mock, 2).run(async move {
        let _ = stop_rx.await;
    }));
    mock.push_task(task("t-a", "wait"));
    mock.push_task(task("t-b", "wait"));
    // Both are running once a heartbeat lists them.
    assert!(
        mock.wait_until(WAIT, |m| m.heartbeats().iter().flatten().any(|h| h
            .current_tasks
            .as_ref()
            .is_some_and(|c| c.len() == 2)
            && h.status == "busy"))
            .await
    );
    mock.push_command(WorkerCommand::cancel_task("t-a", None));
    assert!(mock.wait_until(WAIT, |m| m.results().len() == 1).await);
    assert_eq!(mock.results()[0].task_id, "t-a");
    assert_eq!(mock.results()[0].status(), "cancelled");

    mock.push_heartbeat_reply(json!({"status": "ok", "cancel_task_ids": ["t-b"]}));
    assert!(mock.wait_until(WAIT, |m| m.results().len() == 2).await);
    assert_eq!(mock.results()[1].status(), "cancelled");
    stop_tx.send(()).unwrap();
    tokio::time::timeout(WAIT, run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
