//! Lambda function for a patient's exports: start one, follow it, and take its ZIP through a short-lived link.

vellum::function_main!("patient-exports");
