//! Lambda function for `POST /v1/appointments/{appointmentId}/cancel`.

vellum::function_main!("appointments-cancel");
