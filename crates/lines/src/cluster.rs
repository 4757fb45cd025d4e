//! An Apache Ballista cluster on this machine (feature `ballista`): a scheduler and
//! executors started in this process on loopback ports, for `backstock lines cluster`
//! (trying `--engine ballista://…` out) and the test that checks Ballista's answers
//! against the local engine's. A real cluster runs Ballista's own `ballista-scheduler`
//! and `ballista-executor` binaries of the same version (README, Line-level analytics).

use crate::other;
use backstock_app::AppError;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::serde::BallistaCodec;

/// How long to wait for the scheduler to take connections.
const CONNECT_TRIES: u32 = 100;
const CONNECT_PAUSE_MS: u64 = 100;
/// Executors one call may start (each holds a thread pool and a port).
pub const MAX_EXECUTORS: usize = 16;

/// Starts a scheduler and `executors` executors (each running up to `tasks` tasks at
/// once) in this process, all on loopback; answers the scheduler's `HOST:PORT` for
/// `--engine ballista://HOST:PORT`. They run until the process ends.
pub async fn start_local(executors: usize, tasks: usize) -> Result<String, AppError> {
    assert!(
        executors <= MAX_EXECUTORS,
        "at most {MAX_EXECUTORS} executors"
    );
    let addr = ballista_scheduler::standalone::new_standalone_scheduler()
        .await
        .map_err(|e| other(format!("Ballista scheduler: {e}")))?;
    let url = format!("http://localhost:{}", addr.port());
    for _ in 0..executors.max(1) {
        let mut tries = 0;
        let client = loop {
            match SchedulerGrpcClient::connect(url.clone()).await {
                Ok(c) => break c,
                Err(e) if tries >= CONNECT_TRIES => {
                    return Err(other(format!(
                        "Ballista scheduler at {url} takes no connections: {e}"
                    )))
                }
                Err(_) => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(CONNECT_PAUSE_MS)).await;
                }
            }
        };
        ballista_executor::new_standalone_executor(client, tasks.max(1), BallistaCodec::default())
            .await
            .map_err(|e| other(format!("Ballista executor: {e}")))?;
    }
    Ok(format!("localhost:{}", addr.port()))
}
