//! Lambda function for `GET /v1/plan`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("plan-get").await
}
