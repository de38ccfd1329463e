//! Lambda function for `GET /v1/staff/{userId}/working-hours`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("staff-hours-get").await
}
