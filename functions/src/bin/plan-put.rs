//! Lambda function for `PUT /v1/operator/clinics/{clinicId}/plan`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("plan-put").await
}
