//! Lambda function for `GET /v1/form-templates/{templateId}`.

vellum::function_main!("forms-templates-get");
