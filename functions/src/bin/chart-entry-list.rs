//! Lambda function for `GET /v1/patients/{patientId}/<kind>`, every chart kind.

vellum::function_main!("chart-entry-list");
