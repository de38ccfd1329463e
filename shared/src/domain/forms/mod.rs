//! Pre-visit forms: templates a clinic defines (and the built-in ones it can copy), the answers a patient
//! gives through an invitation link, and the signed consents they hold.

pub mod answers;
pub mod builtin;
pub mod invitation;
pub mod pdf;
pub mod template;
