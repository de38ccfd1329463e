//! Lambda function for `POST /v1/patients/{patientId}/photos/{photoId}/erase`.

vellum::function_main!("photos-erase");
