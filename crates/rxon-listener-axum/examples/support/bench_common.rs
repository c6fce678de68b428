//! Setup shared by the benchmark's `bench_listener` and `limit_server`: argument parsing,
//! the runtime and the bound socket announced with `READY pid=<pid> port=<port>`.

/// Parses `--port P` plus the given boolean `flags`; returns the port (`default_port` when
/// absent) and, per flag, whether it was given. Panics with `usage` on anything else.
pub(crate) fn parse_args<const N: usize>(
    default_port: u16,
    flags: [&str; N],
    usage: &str,
) -> (u16, [bool; N]) {
    let mut port = default_port;
    let mut given = [false; N];
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--port" {
            port = args
                .next()
                .and_then(|p| p.parse().ok())
                .expect("--port takes a number");
        } else if let Some(i) = flags.iter().position(|f| *f == a) {
            given[i] = true;
        } else {
            panic!("unknown argument {a:?} (usage: {usage})");
        }
    }
    (port, given)
}

/// A multi-thread or current-thread runtime with I/O and time enabled.
pub(crate) fn runtime(multi_thread: bool) -> tokio::runtime::Runtime {
    if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    }
    .enable_all()
    .build()
    .expect("runtime")
}

/// Binds `127.0.0.1:port` (0: any free port) and prints `READY pid=<pid> port=<port>`.
pub(crate) async fn bind(port: u16) -> tokio::net::TcpListener {
    let tcp = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    let port = tcp.local_addr().unwrap().port();
    println!("READY pid={} port={port}", std::process::id());
    tcp
}

/// Resolves on Ctrl-C.
pub(crate) async fn ctrl_c() {
    let _ = tokio::signal::ctrl_c().await;
}
