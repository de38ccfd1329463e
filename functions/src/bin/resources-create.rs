//! Lambda function for `POST /v1/resources`.

vellum::function_main!("resources-create");
