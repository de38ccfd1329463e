//! Lambda function for `POST /v1/appointments/{appointmentId}/status`.

vellum::function_main!("appointments-status");
