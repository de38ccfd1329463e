//! Lambda function for `POST /v1/appointments/{appointmentId}/reschedule`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("appointments-reschedule").await
}
