//! Lambda function for `POST /v1/patients/{patientId}/<kind>`, every chart kind.

vellum::function_main!("chart-entry-create");
