//! The SDK floor: the smallest `lambda_http` function that builds a DynamoDB client at init and reads one item
//! per request, as every Vellum function does at least.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = std::env::var("VELLUM_RECORDS_TABLE").unwrap_or_else(|_| "records".into());
    lambda_http::run(service_fn(move |_request: Request| {
        let (client, table) = (client.clone(), table.clone());
        async move {
            let item = client
                .get_item()
                .table_name(table)
                .key("PK", AttributeValue::S("BASELINE".into()))
                .key("SK", AttributeValue::S("BASELINE".into()))
                .send()
                .await;
            let status = if item.is_ok() { 200 } else { 503 };
            Ok::<_, Error>(Response::builder().status(status).body(Body::from("floor"))?)
        }
    }))
    .await
}
