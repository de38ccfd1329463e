//! Lambda function for `PATCH /v1/services/{serviceId}`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("services-update").await
}
