//! Lambda function for `POST /v1/break-glass/{breakGlassId}/review`.

vellum::function_main!("break-glass-review");
