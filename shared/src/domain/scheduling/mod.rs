//! The clinic's calendar: the rooms and devices it books, and the services it offers.

pub mod resource;
pub mod service;

crate::string_enum! {
    /// Whether a service or resource may still be booked; a retired one stays for the record.
    CatalogueStatus { Active = "active", Retired = "retired" }
}

/// Reads a whole number of minutes within `min..=max` that is a multiple of 5 (the calendar's grain).
pub(crate) fn minutes(form: &super::fields::Form<'_>, field: &str, required: bool, min: u32, max: u32) -> Option<u32> {
    let value = form.number(field, required, f64::from(min), f64::from(max), "minutes")?;
    if value.fract() != 0.0 || !(value as u32).is_multiple_of(5) {
        form.reject(field, super::fields::Issue::Rule("must be a whole number of minutes in steps of 5".into()));
        return None;
    }
    Some(value as u32)
}
