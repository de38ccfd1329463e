//! Lambda function run on a schedule: deletes sealed photo objects that no photo record names.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve_photo_sweep().await
}
