//! Lambda function for `GET /v1/patients/{patientId}/appointments`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("patients-appointments").await
}
