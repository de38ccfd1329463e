//! Lambda function for `POST /v1/invitations`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("invitations-create").await
}
