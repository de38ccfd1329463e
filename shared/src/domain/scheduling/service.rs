//! A service the clinic books: how long it takes with its buffers, who performs it, the rooms and devices
//! it needs, the forms it sends, whether patients may book it online, and its price (for display).

use serde::{Deserialize, Serialize};

use super::{CatalogueStatus, Catalogued, Kind, minutes};
use crate::domain::fields::{Form, Issue};
use crate::domain::forms::template::valid_template_id;
use crate::domain::keys;
use crate::domain::role::Role;
use crate::domain::safety::plan::TreatmentPlan;
use crate::domain::values::{EntityId, ShortText, UserId};

/// The longest service, its buffers included: a working day.
pub const MAX_DURATION_MINUTES: u32 = 480;
/// The most rooms and devices one service needs.
pub const MAX_RESOURCES: usize = 4;
/// The most staff a service may name as its performers.
pub const MAX_NAMED_STAFF: usize = 20;
/// The most forms a booking of it sends.
pub const MAX_FORMS: usize = 10;

/// Who performs a service: anyone of a clinical role, or the staff named.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PerformedBy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub staff: Vec<UserId>,
}

impl PerformedBy {
    fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["role", "staff"]);
        let role: Option<Role> = form.opt("role");
        if role.is_some_and(|r| !matches!(r, Role::Practitioner | Role::Nurse)) {
            form.reject("role", Issue::Rule("must be practitioner or nurse".into()));
            return None;
        }
        let staff: Vec<UserId> = form.list("staff", 0, MAX_NAMED_STAFF)?;
        if role.is_some() != staff.is_empty() {
            form.reject("role", Issue::Rule("name either a role or the staff who perform it, not both".into()));
            return None;
        }
        Some(Self { role, staff })
    }
}

/// A price to show: an amount with at most two decimals, in an ISO 4217 currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
    pub amount: String,
    pub currency: String,
}

impl Price {
    fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["amount", "currency"]);
        let amount: Option<ShortText> = form.req("amount");
        let currency: Option<ShortText> = form.req("currency");
        let (amount, currency) = (amount?, currency?);
        let (whole, cents) = amount.as_str().split_once('.').unwrap_or((amount.as_str(), ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let dangling_point = amount.as_str().ends_with('.');
        if whole.is_empty() || whole.len() > 7 || !digits(whole) || cents.len() > 2 || !digits(cents) || dangling_point
        {
            form.reject("amount", Issue::Rule("must be a decimal amount such as 150 or 150.00".into()));
            return None;
        }
        let code = currency.as_str();
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            form.reject("currency", Issue::Rule("must be an ISO 4217 code such as USD or EUR".into()));
            return None;
        }
        Some(Self { amount: amount.as_str().to_string(), currency: code.to_string() })
    }
}

/// What an administrator says of a service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDetails {
    pub name: ShortText,
    pub duration_minutes: u32,
    pub buffer_before_minutes: u32,
    pub buffer_after_minutes: u32,
    /// Start times offered are multiples of this from midnight, local time.
    pub interval_minutes: u32,
    pub performed_by: PerformedBy,
    pub resource_ids: Vec<EntityId>,
    pub form_template_ids: Vec<String>,
    pub bookable_online: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Price>,
    /// The treatment it is, for the safety check a booking of it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub treatment: Option<TreatmentPlan>,
    pub status: CatalogueStatus,
}

/// A number of minutes that may be left out for its default.
fn minutes_or(form: &Form<'_>, field: &str, min: u32, max: u32, default: u32) -> Option<u32> {
    if form.given(field) { minutes(form, field, true, min, max) } else { Some(default) }
}

impl ServiceDetails {
    pub fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&[
            "name",
            "durationMinutes",
            "bufferBeforeMinutes",
            "bufferAfterMinutes",
            "intervalMinutes",
            "performedBy",
            "resourceIds",
            "formTemplateIds",
            "bookableOnline",
            "price",
            "treatment",
            "status",
        ]);
        let name = form.req("name");
        let duration = minutes(form, "durationMinutes", true, 5, MAX_DURATION_MINUTES);
        let before = minutes_or(form, "bufferBeforeMinutes", 0, 120, 0);
        let after = minutes_or(form, "bufferAfterMinutes", 0, 120, 0);
        let interval = minutes_or(form, "intervalMinutes", 5, 60, 15);
        let performed_by = form.object("performedBy", true, PerformedBy::read);
        let resource_ids: Option<Vec<EntityId>> = form.list("resourceIds", 0, MAX_RESOURCES);
        let resource_ids = resource_ids.filter(|ids| {
            let unique = ids.iter().collect::<std::collections::HashSet<_>>().len() == ids.len();
            if !unique {
                form.reject("resourceIds", Issue::Rule("must not name a resource twice".into()));
            }
            unique
        });
        let templates: Option<Vec<ShortText>> = form.list("formTemplateIds", 0, MAX_FORMS);
        let templates = templates.and_then(|ids| {
            let ids: Vec<String> = ids.iter().map(|t| t.as_str().to_string()).collect();
            if ids.iter().all(|t| valid_template_id(t)) {
                Some(ids)
            } else {
                form.reject("formTemplateIds", Issue::Rule("must hold form template ids".into()));
                None
            }
        });
        let bookable_online = form.opt("bookableOnline").unwrap_or(false);
        let price = if form.given("price") { form.object("price", true, Price::read).map(Some) } else { Some(None) };
        let treatment = if form.given("treatment") {
            form.object("treatment", true, TreatmentPlan::read).map(Some)
        } else {
            Some(None)
        };
        let status = form.opt("status").unwrap_or(CatalogueStatus::Active);
        let (duration, before, after) = (duration?, before?, after?);
        if before + duration + after > MAX_DURATION_MINUTES {
            let message = format!("with its buffers must not pass {MAX_DURATION_MINUTES} minutes");
            form.reject("durationMinutes", Issue::Rule(message));
            return None;
        }
        Some(Self {
            name: name?,
            duration_minutes: duration,
            buffer_before_minutes: before,
            buffer_after_minutes: after,
            interval_minutes: interval?,
            performed_by: performed_by?,
            resource_ids: resource_ids?,
            form_template_ids: templates?,
            bookable_online,
            price: price?,
            treatment: treatment?,
            status,
        })
    }
}

/// A clinic's service.
pub type Service = Catalogued<ServiceDetails>;

impl Kind for ServiceDetails {
    const PREFIX: &'static str = keys::SERVICE_PREFIX;
}
