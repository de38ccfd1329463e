//! Lambda function for `GET /v1/operator/audit-verification`.

vellum::function_main!("audit-verify");
