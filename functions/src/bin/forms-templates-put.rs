//! Lambda function for `PUT /v1/form-templates/{templateId}`.

vellum::function_main!("forms-templates-put");
