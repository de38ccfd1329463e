//! Lambda function for `GET /v1/patients/{patientId}/<kind>/{entryId}/history`, every chart kind.

vellum::function_main!("chart-entry-history");
