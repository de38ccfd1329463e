//! The local server: every route on one port over the embedded store (or AWS with `VELLUM_BACKEND=aws`);
//! `vellum-local token …` prints a token for it instead.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("token") {
        return match vellum::host::local::token_command(&args[1..]) {
            Ok(token) => {
                println!("{token}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("vellum: {e}");
                ExitCode::from(2)
            }
        };
    }
    match vellum::host::local::run_from_env().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vellum: {e}");
            ExitCode::FAILURE
        }
    }
}
