//! Lambda function for `PATCH /v1/clinic`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("clinic-update").await
}
