//! Lambda function for `GET /v1/availability`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("availability").await
}
