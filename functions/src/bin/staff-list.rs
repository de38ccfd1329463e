//! Lambda function for `GET /v1/staff`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("staff-list").await
}
