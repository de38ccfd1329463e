//! Lambda function for `GET /v1/patients/{patientId}/invitations`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("invitations-list").await
}
