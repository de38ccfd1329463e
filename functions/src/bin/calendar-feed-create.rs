//! Lambda function for `POST /v1/staff/{userId}/calendar-feed`.

vellum::function_main!("calendar-feed-create");
