//! Lambda function for the audit table's stream: chained, hashed batches into the Object Lock archive.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve_audit_archive().await
}
