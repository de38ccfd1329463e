//! Lambda function for `PATCH /v1/resources/{resourceId}`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("resources-update").await
}
