//! Log set-up: `tracing` JSON lines with request ids and entity ids, never names or clinical text.

use tracing_subscriber::EnvFilter;

/// Starts JSON logging once; `RUST_LOG` overrides the level (`info` by default).
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ =
        tracing_subscriber::fmt().json().with_env_filter(filter).with_current_span(true).with_target(false).try_init();
}
