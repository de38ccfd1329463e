//! Lambda function for the clinic's erasure and restriction requests awaiting its action, soonest due first.

vellum::function_main!("erasure-requests-awaiting");
