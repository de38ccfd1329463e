//! Lambda function for `POST /v1/patients/{patientId}/photos/erase`.

vellum::function_main!("photos-erase-all");
