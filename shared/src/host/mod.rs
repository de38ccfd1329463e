//! The two hosts of the same router: AWS Lambda behind API Gateway, and the local server.

pub mod audit_verify;
pub mod config;
pub mod lambda;
pub mod local;
pub mod token;
