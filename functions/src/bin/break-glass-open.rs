//! Lambda function for `POST /v1/patients/{patientId}/break-glass`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("break-glass-open").await
}
