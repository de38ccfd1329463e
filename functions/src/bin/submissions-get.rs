//! Lambda function for `GET /v1/patients/{patientId}/submissions/{submissionId}`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("submissions-get").await
}
