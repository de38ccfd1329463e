//! Lambda function for `GET /v1/resources`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("resources-list").await
}
