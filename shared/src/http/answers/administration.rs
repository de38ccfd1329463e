//! What the routes of clinics, staff, patients, usage and plans, the audit trail and break-glass answer.

use serde_json::{Value, json};

use super::{
    Answer, actor, answer, described, instant, nullable, object, of, page, reference, stored, text, version,
    with_required,
};
use crate::domain::audit::Outcome as EventOutcome;
use crate::domain::break_glass::Scope;
use crate::domain::patient::SexAtBirth;
use crate::domain::rights::RightsKind;
use crate::domain::role::Role;
use crate::domain::schema::one_of;
use crate::domain::staff::StaffStatus;
use crate::domain::values::{BirthDate, CountryCode, Date, Email, EntityId, Phone, TimeZoneName, UserId};
use crate::metering::Unit;
use crate::metering::plan::AtCap;

/// A code or link token shown once: 32 random bytes, base64url without padding.
fn code() -> Value {
    json!({"type": "string", "pattern": "^[A-Za-z0-9_-]{43}$"})
}

/// A count that is never negative.
fn count() -> Value {
    json!({"type": "integer", "minimum": 0})
}

/// US dollars written with six decimals (millionths of a dollar).
fn usd() -> Value {
    json!({"type": "string", "pattern": "^[0-9]+\\.[0-9]{6}$", "description": "US dollars, to the millionth"})
}

/// A month written `YYYY-MM`.
fn month() -> Value {
    json!({"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"})
}

/// A whole number by unit, for the units that have one.
fn per_unit() -> Value {
    let units: serde_json::Map<String, Value> = Unit::ALL.iter().map(|u| (u.as_str().to_string(), count())).collect();
    json!({"type": "object", "additionalProperties": false, "properties": units})
}

/// The clinic as stored: what an administrator may change, and what was fixed when it was opened.
fn clinic_profile() -> Value {
    let schema = stored(
        "ClinicSettings",
        &["id", "timeZone", "country", "plan", "createdAt", "version"],
        json!({
            "id": of::<EntityId>(),
            "timeZone": of::<TimeZoneName>(),
            "country": of::<CountryCode>(),
            "plan": {"type": "string"},
            "createdAt": instant(),
            "version": version(),
        }),
    );
    described(schema, "A clinic: name, contact, zone and country, messages' language, reminders, booking address")
}

/// An invitation to join the staff as shown, with `more` properties (always present) added.
fn staff_invitation(description: &str, more: Value) -> Value {
    let properties = json!({
        "id": of::<EntityId>(),
        "role": one_of(Role::STAFF),
        "displayName": text(200),
        "email": nullable(of::<Email>()),
        "status": {"const": "invited"},
        "expiresAt": described(instant(), "When the code stops working (7 days after the invitation)"),
    });
    let required = ["id", "role", "displayName", "email", "status", "expiresAt"];
    described(with_required(object(&required, properties), more), description)
}

/// A staff member of the clinic.
fn staff_member() -> Value {
    described(
        object(
            &["userId", "role", "displayName", "status", "createdAt", "updatedAt", "version"],
            json!({
                "userId": of::<UserId>(),
                "role": one_of(Role::STAFF),
                "displayName": text(200),
                "email": of::<Email>(),
                "status": one_of(StaffStatus::ALL),
                "createdAt": instant(),
                "updatedAt": instant(),
                "version": version(),
            }),
        ),
        "A member of the clinic's staff: role, name and whether they may sign in",
    )
}

/// A patient as stored: the demographics staff enter, and the server's fields.
fn patient_record() -> Value {
    let schema = stored(
        "PatientDetails",
        &["id", "mrn", "createdAt", "updatedAt", "version"],
        json!({
            "id": of::<EntityId>(),
            "mrn": mrn(),
            "restriction": described(
                object(&["requestId", "kind", "since"], json!({
                    "requestId": of::<EntityId>(),
                    "kind": one_of(RightsKind::ALL),
                    "since": instant(),
                })),
                "While present the record is restricted (GDPR Art. 18): only administrators open it, and nothing new is written to it. Kind erasure: an erased record's remains kept until their retention period ends",
            ),
            "createdAt": instant(),
            "updatedAt": instant(),
            "version": version(),
        }),
    );
    described(schema, "A patient's demographics, with the record number Vellum assigned")
}

/// A medical record number: the clinic's count, eight digits at least.
fn mrn() -> Value {
    json!({"type": "string", "pattern": "^[0-9]{8,}$", "description": "The record number, unique in the clinic"})
}

/// What a search shows of a patient.
fn patient_summary() -> Value {
    described(
        object(
            &["id", "mrn", "givenName", "familyName", "preferredName", "birthDate", "sexAtBirth", "phone"],
            json!({
                "id": of::<EntityId>(),
                "mrn": mrn(),
                "givenName": text(200),
                "familyName": text(200),
                "preferredName": nullable(text(200)),
                "birthDate": of::<BirthDate>(),
                "sexAtBirth": one_of(SexAtBirth::ALL),
                "phone": nullable(of::<Phone>()),
            }),
        ),
        "A patient found by a search: enough to pick the right one",
    )
}

/// One access event of the audit trail.
fn access_event() -> Value {
    let id = of::<EntityId>();
    let nullable_text = nullable(json!({"type": "string"}));
    let mark =
        object(&["id", "scope", "reason"], json!({"id": id, "scope": one_of(Scope::all()), "reason": text(200)}));
    described(
        object(
            &[
                "eventId",
                "eventTime",
                "eventName",
                "eventSource",
                "clinicId",
                "userIdentity",
                "sourceIPAddress",
                "userAgent",
                "requestId",
                "resources",
                "patientId",
                "outcome",
                "errorCode",
                "reason",
            ],
            json!({
                "eventId": id,
                "eventTime": instant(),
                "eventName": {"type": "string", "description": "The route's name, or the platform's own work"},
                "eventSource": {"type": "string", "description": "The function that did it"},
                "clinicId": nullable(id.clone()),
                "userIdentity": actor(),
                "sourceIPAddress": nullable_text,
                "userAgent": nullable_text,
                "requestId": {"type": "string"},
                "resources": {"type": "array", "items": object(&["type", "id"],
                    json!({"type": {"type": "string"}, "id": {"type": "string"}}))},
                "patientId": nullable(id.clone()),
                "listedPatients": {"type": "array", "items": id, "description": "Every patient the answer showed, when it showed several"},
                "outcome": one_of(EventOutcome::ALL),
                "errorCode": nullable_text,
                "reason": nullable_text,
                "breakGlass": {"type": "array", "items": mark, "description": "The break-glass the call was made under, with its reason"},
            }),
        ),
        "One call, as the audit trail records it: who, what, when and how it ended (ids only, no values)",
    )
}

/// A line of a usage ledger.
fn usage_line() -> Value {
    described(
        object(
            &["unit", "count", "included", "weight", "priceUsd", "amountUsd"],
            json!({
                "unit": one_of(Unit::ALL),
                "count": count(),
                "included": described(count(), "Units included each month before any is billed"),
                "weight": described(count(), "What one counts for against the burst quota"),
                "priceUsd": usd(),
                "amountUsd": usd(),
            }),
        ),
        "A unit's count in a month, its price, and the amount billed once the included units are used",
    )
}

/// A clinic's usage ledger for a month.
fn usage_ledger() -> Value {
    let reached = nullable(json!({"type": "integer", "minimum": 0}));
    let reached = described(reached, "The highest level of the cap the meter raised (80 or 100), if any");
    let cap = object(
        &["capUsd", "percent", "atCap", "reachedPercent", "changesStopped"],
        json!({
            "capUsd": {"type": "integer", "minimum": 1},
            "percent": {"type": "number", "minimum": 0, "description": "The month's amount as a percentage of the cap, to a tenth"},
            "atCap": one_of(AtCap::ALL),
            "reachedPercent": reached,
            "changesStopped": {"type": "boolean"},
        }),
    );
    let day = object(&["date", "counts", "late"], json!({"date": of::<Date>(), "counts": per_unit(), "late": count()}));
    described(
        object(
            &["month", "closed", "closesAt", "plan", "cap", "lines", "daily", "totalUsd", "note"],
            json!({
                "month": month(),
                "closed": {"type": "boolean"},
                "closesAt": instant(),
                "plan": text(200),
                "cap": nullable(cap),
                "lines": {"type": "array", "items": reference("UsageLine")},
                "daily": {"type": "array", "items": day},
                "totalUsd": usd(),
                "note": {"type": "string"},
            }),
        ),
        "A clinic's use in a month (UTC days): a line per unit, the daily counts, the total and the spend cap",
    )
}

/// Every clinic's totals for a month.
fn operator_usage() -> Value {
    let clinic = object(
        &["clinicId", "lines", "totalUsd"],
        json!({
            "clinicId": of::<EntityId>(),
            "lines": {"type": "array", "items": reference("UsageLine")},
            "totalUsd": usd(),
        }),
    );
    described(
        object(
            &["month", "closed", "items"],
            json!({"month": month(), "closed": {"type": "boolean"}, "items": {"type": "array", "items": clinic}}),
        ),
        "Every clinic's use in a month, by unit at list prices",
    )
}

/// A clinic's plan, as stored (or the list plan, version 0).
fn clinic_plan() -> Value {
    let schema = stored(
        "Plan",
        &["prices", "included", "atCap", "burstUnitsPerMinute", "version"],
        json!({"version": {"type": "integer", "minimum": 0, "description": "0 for the list plan (no plan stored)"}}),
    );
    described(schema, "A clinic's plan: prices that differ from the list, included units, spend cap and burst quota")
}

/// What a verification of a clinic's archived audit chain found.
fn audit_verification() -> Value {
    described(
        object(
            &[
                "clinicId",
                "from",
                "to",
                "passed",
                "batches",
                "archivedEvents",
                "tableEvents",
                "unreferencedBatches",
                "pendingEvents",
                "findings",
            ],
            json!({
                "clinicId": {"anyOf": [of::<EntityId>(), {"const": "platform"}]},
                "from": nullable(instant()),
                "to": nullable(instant()),
                "passed": {"type": "boolean"},
                "batches": count(),
                "archivedEvents": count(),
                "tableEvents": count(),
                "unreferencedBatches": count(),
                "pendingEvents": count(),
                "findings": {"type": "array", "items": {"type": "string"}},
            }),
        ),
        "A verification of an audit chain: the batches and events checked, and what was found wrong",
    )
}

/// One break-glass and its review.
fn break_glass_entry() -> Value {
    let review = object(&["by", "at", "note"], json!({"by": actor(), "at": instant(), "note": text(200)}));
    described(
        object(
            &["id", "patientId", "scope", "reason", "openedBy", "openedAt", "expiresAt", "review"],
            json!({
                "id": of::<EntityId>(),
                "patientId": of::<EntityId>(),
                "scope": one_of(Scope::all()),
                "reason": text(200),
                "openedBy": actor(),
                "openedAt": instant(),
                "expiresAt": instant(),
                "review": nullable(review),
            }),
        ),
        "A break-glass: who opened which part of a patient's record, why and until when, and its review",
    )
}

/// The named schemas of these routes' answers.
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        ("ClinicProfile", clinic_profile()),
        (
            "OpenedClinic",
            described(
                object(
                    &["id", "clinic", "adminInvitation", "adminInvitationCode"],
                    json!({
                        "id": of::<EntityId>(),
                        "clinic": reference("ClinicProfile"),
                        "adminInvitation": reference("StaffInvitation"),
                        "adminInvitationCode": described(code(), "The first administrator's code (shown once): they join with it"),
                    }),
                ),
                "A clinic just opened, and the invitation of its first administrator",
            ),
        ),
        ("StaffInvitation", staff_invitation("An invitation to join the clinic's staff in a role", json!({}))),
        (
            "IssuedStaffInvitation",
            staff_invitation(
                "An invitation just made, with its code",
                json!({"code": described(code(), "Shown once: whoever signs in with it joins as this member")}),
            ),
        ),
        ("StaffMember", staff_member()),
        (
            "JoinedClinic",
            described(
                object(
                    &["clinicId", "member"],
                    json!({"clinicId": of::<EntityId>(), "member": reference("StaffMember")}),
                ),
                "The clinic joined, and the caller as its member",
            ),
        ),
        ("PatientRecord", patient_record()),
        ("PatientSummary", patient_summary()),
        ("AccessEvent", access_event()),
        ("UsageLine", usage_line()),
        ("UsageLedger", usage_ledger()),
        ("OperatorUsage", operator_usage()),
        ("ClinicPlan", clinic_plan()),
        ("AuditVerification", audit_verification()),
        ("BreakGlassEntry", break_glass_entry()),
    ]
}

/// What each of these routes answers.
pub(super) fn answers() -> Vec<Answer> {
    vec![
        answer("clinics.create", reference("OpenedClinic")).versioned(),
        answer("clinic.read", reference("ClinicProfile")).versioned(),
        answer("clinic.update", reference("ClinicProfile")).versioned(),
        answer("staff.create", reference("IssuedStaffInvitation")),
        answer("staff.join", reference("JoinedClinic")).versioned(),
        answer("staff.list", page(reference("StaffMember"))),
        answer("staff.update", reference("StaffMember")).versioned(),
        answer("patients.create", reference("PatientRecord")).versioned(),
        answer("patients.list", page(reference("PatientSummary"))),
        answer("patients.read", reference("PatientRecord")).versioned(),
        answer("patients.update", reference("PatientRecord")).versioned(),
        answer("patients.access-log", page(reference("AccessEvent"))),
        answer("usage.read", reference("UsageLedger")),
        answer("plan.read", reference("ClinicPlan")).versioned(),
        answer("plan.save", reference("ClinicPlan")).versioned(),
        answer("usage.operator", reference("OperatorUsage")),
        answer("audit.list", page(reference("AccessEvent"))),
        answer("audit.verify", reference("AuditVerification")),
        answer("break-glass.open", reference("BreakGlassEntry")),
        answer("break-glass.list", page(reference("BreakGlassEntry"))),
        answer("break-glass.review", reference("BreakGlassEntry")),
    ]
}
