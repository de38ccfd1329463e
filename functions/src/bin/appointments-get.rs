//! Lambda function for `GET /v1/appointments/{appointmentId}`.

vellum::function_main!("appointments-get");
