//! Lambda function for `GET /v1/patients/{patientId}/photo-sets`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("photos-sets").await
}
