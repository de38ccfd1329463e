//! Lambda function for `POST /v1/patients/{patientId}/photos/{photoId}/consent`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("photos-consent").await
}
