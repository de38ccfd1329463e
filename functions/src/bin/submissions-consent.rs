//! Lambda function for `GET /v1/patients/{patientId}/submissions/{submissionId}/consents/{templateId}`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("submissions-consent").await
}
