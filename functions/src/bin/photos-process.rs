//! Lambda function for the photo bucket's upload events (the quarantine prefix).

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve_photo_uploads().await
}
