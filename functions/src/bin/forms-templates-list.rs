//! Lambda function for `GET /v1/form-templates`.

vellum::function_main!("forms-templates-list");
