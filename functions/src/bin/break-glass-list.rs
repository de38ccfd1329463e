//! Lambda function for `GET /v1/break-glass`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("break-glass-list").await
}
