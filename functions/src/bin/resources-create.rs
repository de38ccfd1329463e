//! Lambda function for `POST /v1/resources`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("resources-create").await
}
