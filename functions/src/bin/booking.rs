//! Lambda function for online booking: the page at `/book/{clinicSlug}` and its public routes.

vellum::function_main!("booking");
