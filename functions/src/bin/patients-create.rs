//! Lambda function for `POST /v1/patients`.

vellum::function_main!("patients-create");
