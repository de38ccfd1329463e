//! Lambda function for `GET /v1/patients/{patientId}/submissions`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("submissions-list").await
}
