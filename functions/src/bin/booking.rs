//! Lambda function for online booking: the page at `/book/{clinicSlug}` and its public routes.

#[tokio::main]
async fn main() -> Result<(), vellum::host::lambda::Error> {
    vellum::host::lambda::serve("booking").await
}
