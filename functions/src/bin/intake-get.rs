//! Lambda function for `GET /v1/intake/{token}`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("intake-get").await
}
