//! Lambda function for `POST /v1/break-glass/{breakGlassId}/review`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("break-glass-review").await
}
