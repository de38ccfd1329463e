//! Lambda function for `GET /v1/patients/{patientId}/<kind>`, every chart kind.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("chart-entry-list").await
}
