//! Lambda function for `GET /v1/usage`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("usage-read").await
}
