//! Lambda function on a daily schedule: the latest closed month's use as meter events for the payment
//! provider, in the billing export.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve_usage_export().await
}
