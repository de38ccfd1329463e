//! Lambda function for `PUT /v1/form-templates/{templateId}`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("forms-templates-put").await
}
