//! Lambda function for `PATCH /v1/patients/{patientId}/<kind>/{entryId}`, every chart kind.

vellum::function_main!("chart-entry-update");
