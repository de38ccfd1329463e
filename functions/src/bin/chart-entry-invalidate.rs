//! Lambda function for `POST /v1/patients/{patientId}/<kind>/{entryId}/entered-in-error`, every chart kind.

vellum::function_main!("chart-entry-invalidate");
