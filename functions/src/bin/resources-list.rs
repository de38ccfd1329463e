//! Lambda function for `GET /v1/resources`.

vellum::function_main!("resources-list");
