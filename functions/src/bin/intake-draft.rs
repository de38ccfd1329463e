//! Lambda function for `PUT /v1/intake/{token}/draft`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("intake-draft").await
}
