//! `rxon submit`: submits jobs to an `rxon serve` orchestrator through its client API, waits
//! for their results and prints them. Plain `http://` URLs only.

use rxon::{Map, Value, json};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Arguments of `rxon submit`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Base URL of the orchestrator, e.g. `http://127.0.0.1:8080`.
    #[arg(long)]
    url: String,
    /// The client API token (`X-Client-Token`).
    #[arg(long)]
    client_token: String,
    /// Task type (the skill name).
    #[arg(long = "type")]
    task_type: String,
    /// Task parameters, a JSON object.
    #[arg(long, default_value = "{}")]
    params: String,
    /// How many jobs to submit.
    #[arg(long, default_value_t = 1)]
    count: u32,
    /// One JSON line per task: job_id, task_id, status, data.
    #[arg(long)]
    json: bool,
    /// Give up waiting after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
}

struct Target {
    host_port: String,
    base_path: String,
}

fn target(url: &str) -> Result<Target, super::CmdError> {
    let rest = url
        .strip_prefix("http://")
        .ok_or("only http:// URLs are supported")?;
    let (host_port, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
    if host_port.is_empty() {
        return Err("the URL has no host".into());
    }
    let base_path = format!("/{}", path.trim_end_matches('/'));
    Ok(Target {
        host_port: host_port.to_owned(),
        base_path: base_path.trim_end_matches('/').to_owned(),
    })
}

/// The largest answer read from the server (a job's status carries its result).
const MAX_RESPONSE: u64 = 64 * 1024 * 1024;

/// One HTTP/1.1 request with `Connection: close`; returns the status and the body.
async fn call(
    t: &Target,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, String), super::CmdError> {
    let mut stream = tokio::net::TcpStream::connect(&t.host_port).await?;
    let mut req = format!(
        "{method} {}{path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nX-Client-Token: {token}\r\nAccept: application/json\r\n",
        t.base_path, t.host_port
    );
    match body {
        Some(b) => req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}",
            b.len()
        )),
        None => req.push_str("\r\n"),
    }
    stream.write_all(req.as_bytes()).await?;
    let mut raw = Vec::new();
    let mut limited = (&mut stream).take(MAX_RESPONSE + 1);
    tokio::time::timeout(Duration::from_secs(30), limited.read_to_end(&mut raw))
        .await
        .map_err(|_| "the server did not answer")??;
    if raw.len() as u64 > MAX_RESPONSE {
        return Err("the server's answer is too large".into());
    }
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or("malformed HTTP response")?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("malformed HTTP status line")?;
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase().starts_with("transfer-encoding:")
            && l.to_ascii_lowercase().contains("chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Ok((status, body))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(rest.get(..n).unwrap_or(""));
        s = rest.get(n..).unwrap_or("").trim_start_matches("\r\n");
    }
    out
}

fn error_of(status: u16, body: &str) -> super::CmdError {
    let msg = json::from_str(body)
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned));
    format!(
        "HTTP {status}: {}",
        msg.unwrap_or_else(|| body.trim().to_owned())
    )
    .into()
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, super::CmdError> {
    let t = target(&args.url)?;
    let params = json::from_str(&args.params).map_err(|e| format!("--params is not JSON: {e}"))?;
    if params.as_object().is_none() {
        return Err("--params must be a JSON object".into());
    }
    let mut req = Map::new();
    req.insert("type", Value::String(args.task_type.clone()));
    req.insert("params", params);
    req.insert(
        "count",
        Value::Number(rxon::Number::from_i64(i64::from(args.count.max(1)))),
    );
    let body = Value::Object(req).to_json();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let (status, text) = call(&t, &args.client_token, "POST", "/api/jobs", Some(&body)).await?;
        if status != 200 {
            return Err(error_of(status, &text));
        }
        let reply = json::from_str(&text)?;
        let jobs: Vec<String> = reply
            .get("jobs")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|j| j.get("job_id").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if jobs.is_empty() {
            return Err("the server accepted no jobs".into());
        }
        let progress = jobs.len() > 1 && std::io::stderr().is_terminal();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(args.timeout);
        let mut done: Vec<Option<Value>> = vec![None; jobs.len()];
        let mut failed = 0usize;
        loop {
            for (i, id) in jobs.iter().enumerate() {
                if done.get(i).is_some_and(Option::is_some) {
                    continue;
                }
                let (status, text) = call(
                    &t,
                    &args.client_token,
                    "GET",
                    &format!("/api/jobs/{id}"),
                    None,
                )
                .await?;
                if status != 200 {
                    return Err(error_of(status, &text));
                }
                let job = json::from_str(&text)?;
                let state = job.get("status").and_then(Value::as_str).unwrap_or("");
                if matches!(state, "finished" | "failed" | "cancelled") {
                    if state != "finished" {
                        failed += 1;
                    }
                    // A closed stdout (`| head`) ends the printing, not the waiting.
                    let _ = print_job(&job, args.json);
                    if let Some(slot) = done.get_mut(i) {
                        *slot = Some(job);
                    }
                }
            }
            let finished = done.iter().filter(|d| d.is_some()).count();
            if progress {
                eprint!("\r{finished}/{} done", jobs.len());
                let _ = std::io::stderr().flush();
            }
            if finished == jobs.len() {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                if progress {
                    eprintln!();
                }
                return Err(format!(
                    "timed out with {} of {} jobs unfinished",
                    jobs.len() - finished,
                    jobs.len()
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if progress {
            eprintln!();
        }
        Ok(if failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    })
}

/// Prints one finished job on stdout.
fn print_job(job: &Value, as_json: bool) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let result = job.get("result");
    let data = result
        .and_then(|r| r.get("data"))
        .cloned()
        .unwrap_or(Value::Null);
    let state = job.get("status").and_then(Value::as_str).unwrap_or("");
    let job_id = job.get("job_id").and_then(Value::as_str).unwrap_or("");
    let task_id = job.get("task_id").and_then(Value::as_str).unwrap_or("");
    if as_json {
        let mut m = Map::new();
        m.insert("job_id", Value::String(job_id.to_owned()));
        m.insert("task_id", Value::String(task_id.to_owned()));
        m.insert("status", Value::String(state.to_owned()));
        m.insert("data", data);
        if let Some(e) = result.and_then(|r| r.get("error")) {
            m.insert("error", e.clone());
        }
        writeln!(out, "{}", Value::Object(m).to_json())
    } else {
        let mut line = format!("{job_id} {state}");
        if !data.is_null() {
            line.push(' ');
            line.push_str(&data.to_json());
        }
        if let Some(e) = result.and_then(|r| r.get("error")) {
            line.push_str(" error=");
            line.push_str(&e.to_json());
        }
        writeln!(out, "{line}")
    }
}
