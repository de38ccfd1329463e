//! Lambda function for a patient's requests to erase or restrict their record: record them, decide, lift, complete.

vellum::function_main!("erasure-requests");
