//! Lambda function for `GET /v1/usage.csv`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("usage-csv").await
}
