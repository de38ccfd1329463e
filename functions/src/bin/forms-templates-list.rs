//! Lambda function for `GET /v1/form-templates`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("forms-templates-list").await
}
