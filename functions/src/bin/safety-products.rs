//! Lambda function for the clinic's products of the safety catalogue: `POST /v1/safety-products`,
//! `GET /v1/safety-products` and `PATCH /v1/safety-products/{productId}`.

vellum::function_main!("safety-products");
