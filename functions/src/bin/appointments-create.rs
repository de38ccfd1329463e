//! Lambda function for `POST /v1/appointments`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("appointments-create").await
}
