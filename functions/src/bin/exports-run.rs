//! Lambda function run every minute: builds the queued exports of patients' records into their ZIPs, and
//! deletes each ZIP seven days after it was ready.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve_exports_run().await
}
