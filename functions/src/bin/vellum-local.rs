//! The local server: every route on one port over the embedded store (or AWS with `VELLUM_BACKEND=aws`).

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match vellum::host::local::run_from_env().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vellum: {e}");
            ExitCode::FAILURE
        }
    }
}
