//! Lambda function for `PUT /v1/clinic/working-hours`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("clinic-hours-put").await
}
