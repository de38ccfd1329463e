//! Lambda function for `POST /v1/appointments/{appointmentId}/cancel`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("appointments-cancel").await
}
