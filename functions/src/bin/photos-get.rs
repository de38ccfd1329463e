//! Lambda function for `GET /v1/patients/{patientId}/photos/{photoId}`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("photos-get").await
}
