//! Lambda function for `PUT /v1/operator/clinics/{clinicId}/plan`.

vellum::function_main!("plan-put");
