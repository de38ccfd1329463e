//! Lambda function for `POST /v1/clinics`.

vellum::function_main!("clinics-create");
