//! Lambda function for `POST /v1/staff/{userId}/calendar-feed/revoke`.

vellum::function_main!("calendar-feed-revoke");
