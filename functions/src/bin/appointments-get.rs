//! Lambda function for `GET /v1/appointments/{appointmentId}`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("appointments-get").await
}
