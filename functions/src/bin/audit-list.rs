//! Lambda function for `GET /v1/audit`.

vellum::function_main!("audit-list");
