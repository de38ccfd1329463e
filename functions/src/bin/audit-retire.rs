//! Lambda function run on a schedule: audit events older than the table's window leave it, once verified
//! in the archive.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve_audit_retire().await
}
