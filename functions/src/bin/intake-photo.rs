//! Lambda function for `POST /v1/intake/{token}/photos`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("intake-photo").await
}
