//! Lambda function for `POST /v1/clinics`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("clinics-create").await
}
