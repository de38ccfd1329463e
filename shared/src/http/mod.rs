//! HTTP glue shared by both hosts: the route table, the request pipeline, errors, cursors.

pub mod answers;
pub mod caller;
pub mod chart_schemas;
pub mod cursor;
pub mod input;
pub mod openapi;
pub mod outcome;
pub mod page;
pub mod pipeline;
pub mod problem;
pub mod routes;
