//! Lambda function for `POST /v1/staff`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("staff-create").await
}
