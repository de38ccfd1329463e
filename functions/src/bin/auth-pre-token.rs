//! Lambda function for the Cognito pre-token-generation trigger.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::auth_trigger::serve().await
}
