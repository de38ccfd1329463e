//! Lambda function for `GET /v1/clinic/working-hours`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("clinic-hours-get").await
}
