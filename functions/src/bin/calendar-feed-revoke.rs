//! Lambda function for `POST /v1/staff/{userId}/calendar-feed/revoke`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("calendar-feed-revoke").await
}
