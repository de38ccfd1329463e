//! Lambda function for `POST /v1/services`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("services-create").await
}
