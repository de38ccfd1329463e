//! Lambda function for `GET /feeds/{token}`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("calendar-feed-get").await
}
