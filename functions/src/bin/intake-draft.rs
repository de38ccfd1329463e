//! Lambda function for `PUT /v1/intake/{token}/draft`.

vellum::function_main!("intake-draft");
