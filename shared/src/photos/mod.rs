//! The photo pipeline: what a file really is, how it becomes clean renditions, how each is sealed under a
//! fresh data key, and the processing an upload triggers.

pub mod envelope;
pub mod process;
pub mod reduce;
pub mod render;
pub mod sniff;
pub mod sweep;

pub use aws_lambda_events::s3::S3Event;
