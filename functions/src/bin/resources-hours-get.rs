//! Lambda function for `GET /v1/resources/{resourceId}/working-hours`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("resources-hours-get").await
}
