//! Lambda function for `GET /v1/lot-recall`.

vellum::function_main!("lot-recall");
