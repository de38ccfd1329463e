//! Lambda function for `GET /v1/audit`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("audit-list").await
}
