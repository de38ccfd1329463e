//! Lambda function for `PUT /v1/clinic/working-hours`.

vellum::function_main!("clinic-hours-put");
