//! Lambda function for `POST /v1/patients/{patientId}/submissions/{submissionId}/accept`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("submissions-accept").await
}
