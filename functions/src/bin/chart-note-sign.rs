//! Lambda function for `POST /v1/patients/{patientId}/notes/{entryId}/sign`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("chart-note-sign").await
}
