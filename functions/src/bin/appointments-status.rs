//! Lambda function for `POST /v1/appointments/{appointmentId}/status`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("appointments-status").await
}
