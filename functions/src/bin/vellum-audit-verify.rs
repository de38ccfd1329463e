//! Verifies one chain of the audit archive against the audit table (see `vellum::host::audit_verify`).

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match vellum::host::audit_verify::run(&args).await {
        Ok((report, passed)) => {
            print!("{report}");
            if passed { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        Err(e) => {
            eprintln!("vellum-audit-verify: {e}");
            ExitCode::from(2)
        }
    }
}
