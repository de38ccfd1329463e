//! Lambda function for `GET /v1/appointments`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("appointments-list").await
}
