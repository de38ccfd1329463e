//! Lambda function for `POST /v1/staff/join`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("staff-join").await
}
