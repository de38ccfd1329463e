//! Lambda function for the FHIR R4 face: the capability statement, reads and searches.

vellum::function_main!("fhir");
