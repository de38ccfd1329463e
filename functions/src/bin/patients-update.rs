//! Lambda function for `PATCH /v1/patients/{patientId}`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("patients-update").await
}
