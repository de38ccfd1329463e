//! Lambda function for `GET /v1/patients/{patientId}/chart`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("chart-summary").await
}
