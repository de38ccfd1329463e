//! Lambda function for `GET /feeds/{token}`.

vellum::function_main!("calendar-feed-get");
