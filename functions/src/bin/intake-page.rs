//! Lambda function for `GET /intake/{token}`.

vellum::function_main!("intake-page");
