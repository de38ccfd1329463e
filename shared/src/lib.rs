//! Vellum's domain crate: rules, ports, adapters and the HTTP glue every function shares.

pub mod api;
pub mod app;
pub mod archive;
pub mod auth_trigger;
pub mod blobs;
pub mod crypto;
pub mod deploy;
pub mod domain;
pub mod exports;
pub mod fhir;
pub mod host;
pub mod http;
pub mod ids;
pub mod keyring;
pub mod messages;
pub mod metering;
pub mod pdf;
pub mod photos;
pub mod store;
pub mod telemetry;
