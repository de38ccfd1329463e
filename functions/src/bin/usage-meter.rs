//! Lambda function on the audit table's stream: each billable event added once to its clinic's daily usage
//! counters.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve_usage_meter().await
}
