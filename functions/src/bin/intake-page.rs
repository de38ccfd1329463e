//! Lambda function for `GET /intake/{token}`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("intake-page").await
}
