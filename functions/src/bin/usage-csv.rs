//! Lambda function for `GET /v1/usage.csv`.

vellum::function_main!("usage-csv");
