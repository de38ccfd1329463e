//! Lambda function for `PUT /v1/resources/{resourceId}/working-hours`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("resources-hours-put").await
}
