//! Lambda function for the FHIR import: a transaction bundle written all at once.

vellum::function_main!("fhir-transaction");
