//! Worker-side cost of the poll → result loop: tasks per second and worker CPU µs per task,
//! for 1 and 16 concurrent workers, against a minimal fast listener on loopback that answers
//! the fixed task of the shared load harness (`payloads/poll_response.json`).
//!
//! ```sh
//! cargo bench -p rxon-transport-http --bench worker_loop
//! ```
//!
//! The bench runs three processes: the listener (`--serve`), pinned to CPU 0 with `taskset`
//! when available; our worker loop (`--work`), pinned to CPU 1; and, when the load harness's
//! Python environment exists (`$RXON_BENCH_VENV`, default `$HOME/.cache/rxon-bench-venv`), the
//! reference worker loop `py_worker_loop.py` against the same listener, for the ratio. Worker
//! CPU is the worker process's own user + system time (`/proc/self/stat`, or `getrusage` on
//! the Python side). `RXON_BENCH_DURATION` sets the measured seconds (default 5).
//!
//! Other modes, against a listener started with `-- --serve` (it prints its port):
//! * `-- --codec`: only the JSON share of a task (decode the poll answer, encode the result),
//!   without I/O;
//! * `-- --tasks URL N`: exactly N tasks of one worker, for instruction counts (run it under
//!   `valgrind --tool=callgrind` for two values of N and divide the difference: unlike CPU
//!   time, it does not depend on the machine's load);
//! * `-- --floor URL N`: the same two exchanges written and read by hand on one keep-alive
//!   connection (no HTTP library, no RXON processing): the I/O floor;
//! * `-- --bare URL SECS`: the same two requests with hyper-util's pooled client and no RXON
//!   processing, for comparison.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rxon_core::model::Model;
use rxon_core::{PollOptions, TaskResult, Transport};
use rxon_transport_http::{HttpTransport, HttpTransportConfig};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const POLL_RESPONSE: &[u8] = include_bytes!("payloads/poll_response.json");
const TASK_RESULT: &[u8] = include_bytes!("payloads/task_result.json");

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--serve") {
        serve();
    } else if args.iter().any(|a| a == "--codec") {
        codec();
    } else if let Some(i) = args.iter().position(|a| a == "--bare") {
        bare(&args[i + 1], args[i + 2].parse().unwrap());
    } else if let Some(i) = args.iter().position(|a| a == "--floor") {
        floor(&args[i + 1], args[i + 2].parse().unwrap());
    } else if let Some(i) = args.iter().position(|a| a == "--tasks") {
        tasks(&args[i + 1], args[i + 2].parse().unwrap());
    } else if let Some(i) = args.iter().position(|a| a == "--work") {
        let url = &args[i + 1];
        let workers: usize = args[i + 2].parse().unwrap();
        let duration: f64 = args[i + 3].parse().unwrap();
        work(url, workers, duration);
    } else {
        orchestrate();
    }
}

// ------------------------------------------------------------------------------- listener

fn serve() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("PORT {}", listener.local_addr().unwrap().port());
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(answer);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
}

async fn answer(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let get = req.method() == hyper::Method::GET;
    let patch = req.method() == hyper::Method::PATCH;
    let _ = req.into_body().collect().await?;
    let body: Bytes = if get {
        Bytes::from_static(POLL_RESPONSE)
    } else if patch {
        Bytes::from_static(b"{}")
    } else {
        Bytes::from_static(b"{\"status\":\"ok\"}")
    };
    Ok(Response::builder()
        .header("Content-Type", "application/json; charset=utf-8")
        .header("X-RXON-Version", "1.0b17")
        .body(Full::new(body))
        .unwrap())
}

// ------------------------------------------------------------------------------ worker loop

/// The multi-thread runtime every measured loop runs on.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The same two requests with hyper-util's pooled client (no RXON processing, no JSON), one
/// worker, for comparison.
fn bare(url: &str, duration: f64) {
    use hyper_util::client::legacy::Client;
    let rt = runtime();
    rt.block_on(async {
        let client: Client<_, Full<Bytes>> =
            Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
        let poll: hyper::Uri = format!("{url}/_worker/workers/w-1/tasks/next?timeout=0")
            .parse()
            .unwrap();
        let result: hyper::Uri = format!("{url}/_worker/tasks/result").parse().unwrap();
        let body = Bytes::from_static(TASK_RESULT);
        let deadline = Instant::now() + Duration::from_secs_f64(duration);
        let (c0, mut n) = (cpu_seconds(), 0u32);
        while Instant::now() < deadline {
            let r = client.get(poll.clone()).await.unwrap();
            let _ = r.into_body().collect().await.unwrap();
            let req = Request::post(result.clone())
                .header("Content-Type", "application/json")
                .body(Full::new(body.clone()))
                .unwrap();
            let r = client.request(req).await.unwrap();
            let _ = r.into_body().collect().await.unwrap();
            n += 1;
        }
        println!(
            "bare hyper: {:.1} us CPU per poll+result, {n} tasks",
            (cpu_seconds() - c0) / f64::from(n) * 1e6
        );
    });
}

/// The I/O floor: the same two exchanges written and read by hand on one keep-alive TCP
/// connection (fixed request bytes, responses framed by `Content-Length` only), `n` times, on
/// a worker thread. No HTTP library, no RXON processing.
fn floor(url: &str, n: u32) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = runtime();
    let addr = url.trim_start_matches("http://").to_owned();
    rt.block_on(async move {
        tokio::spawn(async move {
            let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
            s.set_nodelay(true).unwrap();
            let poll = format!(
                "GET /_worker/workers/w-1/tasks/next?timeout=0.0 HTTP/1.1\r\nhost: {addr}\r\n\
                 x-worker-token: bench-token\r\nx-rxon-version: 1.0b17\r\n\
                 accept-encoding: identity\r\nx-worker-id: w-1\r\n\r\n"
            );
            let mut post = format!(
                "POST /_worker/tasks/result HTTP/1.1\r\nhost: {addr}\r\n\
                 x-worker-token: bench-token\r\nx-rxon-version: 1.0b17\r\n\
                 accept-encoding: identity\r\nx-worker-id: w-1\r\n\
                 content-type: application/json\r\ncontent-length: {}\r\n\r\n",
                TASK_RESULT.len()
            )
            .into_bytes();
            post.extend_from_slice(TASK_RESULT);
            let mut buf = vec![0u8; 16 * 1024];
            for _ in 0..n {
                for req in [poll.as_bytes(), &post[..]] {
                    s.write_all(req).await.unwrap();
                    let mut have = 0;
                    loop {
                        have += s.read(&mut buf[have..]).await.unwrap();
                        let head = buf[..have].windows(4).position(|w| w == b"\r\n\r\n");
                        let Some(h) = head else { continue };
                        let text = std::str::from_utf8(&buf[..h]).unwrap().to_ascii_lowercase();
                        let len: usize = text
                            .split("content-length:")
                            .nth(1)
                            .and_then(|r| r.split("\r\n").next())
                            .map(|v| v.trim().parse().unwrap())
                            .unwrap();
                        if have >= h + 4 + len {
                            break;
                        }
                    }
                }
            }
        })
        .await
        .unwrap();
        println!("{n} tasks");
    });
}

/// The JSON share of a task: decode the poll answer, encode the result (no I/O).
fn codec() {
    let template = TaskResult::from_json(TASK_RESULT).unwrap();
    let n = 20_000u32;
    let (t0, c0) = (Instant::now(), cpu_seconds());
    for _ in 0..n {
        // As the transport does: the task straight from the text.
        let task = rxon_core::TaskPayload::from_json(POLL_RESPONSE).unwrap();
        std::hint::black_box(&task);
        let body = template
            .to_json(rxon_core::ProtocolVersion::V1_0b17)
            .unwrap();
        std::hint::black_box(body);
    }
    let per = (cpu_seconds() - c0) / f64::from(n) * 1e6;
    println!(
        "codec: {per:.1} us CPU per task (decode poll answer + encode result), wall {:?}",
        t0.elapsed() / n
    );
}

/// User + system CPU seconds of this process (all threads), from `/proc/self/stat`
/// (clock ticks of 1/100 s, the Linux user-space `CLK_TCK`).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    // After the command name: state is field 0, utime field 11, stime field 12.
    (ticks(11) + ticks(12)) / 100.0
}

/// Exactly `n` tasks with one worker, no warm-up: for instruction counts (e.g. the difference
/// of two runs under `valgrind --tool=callgrind`), which the machine's load does not blur.
fn tasks(url: &str, n: u32) {
    let rt = runtime();
    rt.block_on(async {
        let template = TaskResult::from_json(TASK_RESULT).unwrap();
        let config = HttpTransportConfig::new(url, "w-1", "bench-token")
            .with_result_retries(1, Duration::from_millis(100));
        let t = HttpTransport::new(config).unwrap();
        let mut result = TaskResult {
            worker_id: Some("w-1".to_owned()),
            ..template
        };
        // On a worker thread, like the workers of `--work`.
        tokio::spawn(async move {
            let poll = PollOptions::with_timeout(Duration::ZERO);
            for _ in 0..n {
                let task = t.poll_task(&poll).await.unwrap().unwrap();
                result.job_id = task.job_id;
                result.task_id = task.task_id;
                assert!(t.send_result(&result).await.unwrap().is_accepted());
            }
            t.close().await;
        })
        .await
        .unwrap();
        println!("{n} tasks");
    });
}

fn work(url: &str, workers: usize, duration: f64) {
    let rt = runtime();
    rt.block_on(async {
        let template = TaskResult::from_json(TASK_RESULT).unwrap();
        let done = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let mut handles = Vec::new();
        for i in 0..workers {
            let worker_id = format!("w-{}", i + 1);
            let config = HttpTransportConfig::new(url, worker_id.clone(), "bench-token")
                .with_result_retries(1, Duration::from_millis(100));
            let t = HttpTransport::new(config).unwrap();
            // One result per worker, its ids replaced per task (like the reference's
            // `msgspec.structs.replace`, which copies no nested data).
            let mut result = TaskResult { worker_id: Some(worker_id), ..template.clone() };
            let (done, errors, stop) = (done.clone(), errors.clone(), stop.clone());
            handles.push(tokio::spawn(async move {
                let poll = PollOptions::with_timeout(Duration::ZERO);
                while !stop.load(Ordering::Relaxed) {
                    match t.poll_task(&poll).await {
                        Ok(Some(task)) => {
                            result.job_id = task.job_id;
                            result.task_id = task.task_id;
                            match t.send_result(&result).await {
                                Ok(r) if r.is_accepted() => done.fetch_add(1, Ordering::Relaxed),
                                _ => errors.fetch_add(1, Ordering::Relaxed),
                            };
                        }
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                }
                t.close().await;
            }));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (t0, c0, n0, e0) = (Instant::now(), cpu_seconds(), done.load(Ordering::Relaxed), errors.load(Ordering::Relaxed));
        tokio::time::sleep(Duration::from_secs_f64(duration)).await;
        let (t1, c1, n1, e1) = (Instant::now(), cpu_seconds(), done.load(Ordering::Relaxed), errors.load(Ordering::Relaxed));
        stop.store(true, Ordering::Relaxed);
        for h in handles {
            let _ = h.await;
        }
        let tasks = n1 - n0;
        let secs = (t1 - t0).as_secs_f64();
        let cpu = c1 - c0;
        #[allow(clippy::cast_precision_loss)]
        let per_task = if tasks > 0 { cpu / tasks as f64 * 1e6 } else { 0.0 };
        #[allow(clippy::cast_precision_loss)]
        let rate = tasks as f64 / secs;
        println!(
            "RXON_WORKER workers={workers} duration_s={secs:.2} tasks={tasks} tasks_per_s={rate:.1} cpu_s={cpu:.3} \
             cpu_us_per_task={per_task:.1} errors={}",
            e1 - e0
        );
    });
}

// ----------------------------------------------------------------------------- orchestration

fn pinned(cpu: &str, program: &Path) -> Command {
    let taskset = Command::new("taskset")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if taskset.is_ok_and(|s| s.success()) {
        let mut c = Command::new("taskset");
        c.arg("-c").arg(cpu).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn field(line: &str, key: &str) -> f64 {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

fn run_line(mut cmd: Command) -> Option<String> {
    let out = cmd.stderr(Stdio::inherit()).output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.starts_with("RXON_WORKER"))
        .map(str::to_owned)
}

fn orchestrate() {
    let exe = std::env::current_exe().unwrap();
    let duration = std::env::var("RXON_BENCH_DURATION").unwrap_or_else(|_| "5".to_owned());
    let mut server = pinned("0", &exe)
        .arg("--serve")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let port: u16 = line.trim().strip_prefix("PORT ").unwrap().parse().unwrap();
    let url = format!("http://127.0.0.1:{port}");
    println!("listener on {url} (CPU 0); workers on CPU 1; {duration} s per run");

    let venv = std::env::var_os("RXON_BENCH_VENV")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache").join("rxon-bench-venv"))
        });
    let python = venv
        .map(|v| v.join("bin").join("python"))
        .filter(|p| p.exists());
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench/py_worker_loop.py");

    for workers in ["1", "16"] {
        let mut rust = pinned("1", &exe);
        rust.args(["--work", &url, workers, &duration]);
        let ours = run_line(rust);
        let theirs = match (&python, script.exists()) {
            (Some(py), true) => {
                let mut c = Command::new(py);
                c.arg(&script).args([
                    "--url",
                    &url,
                    "--workers",
                    workers,
                    "--duration",
                    &duration,
                    "--cpu",
                    "1",
                ]);
                run_line(c)
            }
            _ => None,
        };
        println!("\n== {workers} worker(s)");
        if let Some(l) = &ours {
            println!("rxon-rs:   {l}");
        }
        if let Some(l) = &theirs {
            println!("reference: {l}");
        }
        if let (Some(a), Some(b)) = (&ours, &theirs) {
            let (ca, cb) = (field(a, "cpu_us_per_task"), field(b, "cpu_us_per_task"));
            let (ra, rb) = (field(a, "tasks_per_s"), field(b, "tasks_per_s"));
            if ca > 0.0 && rb > 0.0 {
                println!(
                    "ratio: {:.1}x less worker CPU per task, {:.1}x the tasks/s",
                    cb / ca,
                    ra / rb
                );
            }
        }
    }
    let _ = server.kill();
    let _ = server.wait();
}
