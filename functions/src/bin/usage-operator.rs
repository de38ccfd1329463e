//! Lambda function for `GET /v1/operator/usage`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("usage-operator").await
}
