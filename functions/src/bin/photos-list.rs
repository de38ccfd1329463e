//! Lambda function for `GET /v1/patients/{patientId}/photos`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("photos-list").await
}
