//! Lambda function for `POST /v1/intake/{token}/submit`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("intake-submit").await
}
