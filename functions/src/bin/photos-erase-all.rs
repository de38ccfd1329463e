//! Lambda function for `POST /v1/patients/{patientId}/photos/erase`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("photos-erase-all").await
}
