//! Lambda function for `POST /v1/appointments/{appointmentId}/reschedule`.

vellum::function_main!("appointments-reschedule");
