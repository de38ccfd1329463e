//! Lambda function for `GET /v1/services`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("services-list").await
}
