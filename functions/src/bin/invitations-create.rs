//! Lambda function for `POST /v1/invitations`.

vellum::function_main!("invitations-create");
