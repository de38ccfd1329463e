//! Lambda function for `POST /v1/patients/{patientId}/invitations/{invitationId}/revoke`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("invitations-revoke").await
}
