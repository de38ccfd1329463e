//! The domain: value types, entities and the rules that govern them.

pub mod audit;
pub mod break_glass;
pub mod chart;
pub mod clinic;
pub mod export;
pub mod fields;
pub mod forms;
pub mod keys;
pub mod patient;
pub mod photo;
pub mod rights;
pub mod role;
pub mod safety;
pub mod scheduling;
pub mod schema;
pub mod staff;
pub mod values;
