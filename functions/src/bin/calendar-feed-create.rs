//! Lambda function for `POST /v1/staff/{userId}/calendar-feed`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("calendar-feed-create").await
}
