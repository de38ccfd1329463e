//! Lambda function for `POST /v1/patients/{patientId}/notes/{entryId}/sign`.

vellum::function_main!("chart-note-sign");
