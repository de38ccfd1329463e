//! Lambda function for `GET /v1/lot-recall`.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("lot-recall").await
}
