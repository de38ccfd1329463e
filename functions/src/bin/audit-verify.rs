//! Lambda function for `GET /v1/operator/audit-verification`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("audit-verify").await
}
