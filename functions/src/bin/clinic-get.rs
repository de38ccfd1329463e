//! Lambda function for `GET /v1/clinic`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("clinic-get").await
}
