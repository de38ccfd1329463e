//! Lambda function for `PATCH /v1/staff/{userId}`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("staff-update").await
}
