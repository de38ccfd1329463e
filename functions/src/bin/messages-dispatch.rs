//! Lambda function run every minute: queues the due appointment reminders and sends the queued messages,
//! each once.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve_messages_dispatch().await
}
