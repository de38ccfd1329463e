//! The OpenAPI 3.1 document of the API, generated from the route table (served by the local host).

use serde_json::{Map, Value, json};

use super::chart_schemas::described;
use super::routes::{ROUTES, Route};
use crate::domain::break_glass::{DEFAULT_MINUTES, MAX_MINUTES, Scope};
use crate::domain::chart::treatment::LotNumber;
use crate::domain::clinic::{MAX_CANCELLATION_WINDOW_HOURS, MAX_REMINDER_HOURS, MAX_REMINDERS};
use crate::domain::fields::ParseStr;
use crate::domain::patient::{GenderIdentity, SexAtBirth};
use crate::domain::photo::{Rendition, StandardView};
use crate::domain::rights::{MAX_RETENTION_YEARS, Outcome as RightsOutcome, RightsKind};
use crate::domain::role::Role;
use crate::domain::safety::gate::ACKNOWLEDGEMENTS;
use crate::domain::scheduling::CatalogueStatus;
use crate::domain::scheduling::booking::BookingSlug;
use crate::domain::scheduling::hours::LocalTime;
use crate::domain::scheduling::hours::{DAYS, MAX_OVERRIDES, MAX_SPANS};
use crate::domain::scheduling::resource::ResourceKind;
use crate::domain::scheduling::service::{MAX_DURATION_MINUTES, MAX_FORMS, MAX_NAMED_STAFF, MAX_RESOURCES};
use crate::domain::schema::{given, one_of};
use crate::domain::staff::StaffStatus;
use crate::domain::values::{
    BirthDate, CountryCode, Date, Email, EntityId, LanguageTag, LongText, PastInstant, Phone, PostalCode, TimeZoneName,
    UserId,
};
use crate::fhir::outcome::is_fhir_path;
use crate::fhir::{FHIR_JSON, ResourceType};
use crate::messages::templates::Language;
use crate::metering::Unit;
use crate::metering::plan::AtCap;

/// The schema of what `T` parses.
pub(super) fn of<T: ParseStr>() -> Value {
    T::schema()
}

/// A time range's end in the audit trail's reads: an RFC 3339 time.
fn audit_time(description: &str) -> (String, Value) {
    (description.to_string(), json!({"type": "string", "format": "date-time"}))
}

/// A query parameter of `route`: what it means and what it accepts, from the type the handler parses.
fn query_parameter(route: &Route, name: &str) -> Value {
    let audit = matches!(route.name, "audit.list" | "audit.verify" | "patients.access-log");
    let window = matches!(route.name, "availability.read" | "booking.availability");
    let (description, schema): (String, Value) = match name {
        _ if is_fhir_path(route.path) => fhir_parameter(name),
        "limit" => {
            ("Page size, 1 to 100 (25 by default)".into(), json!({"type": "integer", "minimum": 1, "maximum": 100}))
        }
        "cursor" => (
            "The nextCursor of the previous page of the same query (sealed: only the server makes one)".into(),
            json!({"type": "string"}),
        ),
        "familyName" => (
            "Family-name prefix (accents, case and punctuation ignored; one without a letter or digit names no one)"
                .into(),
            json!({"type": "string", "maxLength": 200}),
        ),
        "birthDate" => ("Date of birth".into(), of::<BirthDate>()),
        "phone" => ("Phone number, E.164".into(), of::<Phone>()),
        "mrn" => ("Medical record number".into(), json!({"type": "string", "pattern": "^[0-9]{8}$"})),
        "patientId" => ("Events about this patient".into(), of::<EntityId>()),
        "actor" => ("Events by this user".into(), of::<UserId>()),
        "staffId" => ("Only this performer".into(), of::<UserId>()),
        "serviceId" => ("The service to book".into(), of::<EntityId>()),
        "from" if audit => audit_time("Earliest event time (not after to)"),
        "to" if audit => audit_time("Latest event time"),
        "from" if window => {
            ("First local day (to at most 31 days after it, 14 on the booking page)".into(), of::<Date>())
        }
        "to" if window => ("Last local day, not before from".into(), of::<Date>()),
        "from" => ("First local day".into(), of::<Date>()),
        "to" => ("Last local day".into(), of::<Date>()),
        "includeEnteredInError" => ("Also list entries marked entered-in-error".into(), json!({"type": "boolean"})),
        "lotNumber" => ("The lot number (spaces, dashes and case ignored)".into(), of::<LotNumber>()),
        "product" => ("Product-name prefix (accents, case and punctuation ignored)".into(), json!({"type": "string"})),
        "manufacturer" => {
            ("Manufacturer-name prefix (accents, case and punctuation ignored)".into(), json!({"type": "string"}))
        }
        "bodyArea" => ("Body area (accents and case ignored)".into(), json!({"type": "string"})),
        "view" => ("Standard view".into(), of::<StandardView>()),
        "treatmentId" => ("Photos of this treatment".into(), of::<EntityId>()),
        "version" => (
            "A version of the template (the latest by default)".into(),
            json!({"type": "integer", "minimum": 1, "maximum": u32::MAX}),
        ),
        "capturedFrom" => ("Taken on or after this day".into(), of::<Date>()),
        "capturedTo" => ("Taken on or before this day".into(), of::<Date>()),
        "rendition" => ("display (long edge 2048 px, the default) or thumbnail (320 px)".into(), of::<Rendition>()),
        "purpose" => (
            "What the image is shown for; its consent must cover it".into(),
            json!({"enum": ["clinical", "education", "marketing"]}),
        ),
        "status" if route.name == "break-glass.list" => {
            ("unreviewed (the default) or reviewed".into(), json!({"enum": ["unreviewed", "reviewed"]}))
        }
        "status" => ("Only entries of this status".into(), of::<CatalogueStatus>()),
        "clinicId" => (
            "A clinic's id, or platform for events of no clinic".into(),
            json!({"anyOf": [of::<EntityId>(), {"const": "platform"}]}),
        ),
        "month" => (
            "A month, YYYY-MM (this month by default)".into(),
            json!({"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"}),
        ),
        other => unreachable!("the query parameter {other} has no description"),
    };
    let required = route_requires(route, name);
    json!({"name": name, "in": "query", "required": required, "description": description, "schema": schema})
}

/// The query parameters a route cannot do without.
fn route_requires(route: &Route, name: &str) -> bool {
    match route.name {
        "availability.read" | "booking.availability" => matches!(name, "serviceId" | "from" | "to"),
        "audit.verify" => name == "clinicId",
        "lots.recall" => name == "lotNumber",
        _ => false,
    }
}

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            let schema = match name {
                "userId" => of::<UserId>(),
                "token" => json!({"type": "string", "pattern": "^[A-Za-z0-9_-]{43}$"}),
                "clinicSlug" => of::<BookingSlug>(),
                "templateId" => template_id(),
                "resourceType" => one_of(ResourceType::ALL.iter().map(|t| t.as_str())),
                "operation" => one_of([crate::fhir::EVERYTHING]),
                "id" => json!({"type": "string", "pattern": "^[A-Za-z0-9.-]{1,64}$"}),
                _ => of::<EntityId>(),
            };
            json!({"name": name, "in": "path", "required": true, "schema": schema})
        })
        .collect()
}

fn problem(description: &str) -> Value {
    json!({"description": description, "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})
}

/// A whole number for some of the billed units, by unit.
fn per_unit() -> Value {
    let count = json!({"type": "integer", "minimum": 0, "maximum": 1_000_000_000});
    let units: Map<String, Value> = Unit::ALL.iter().map(|u| (u.as_str().to_string(), count.clone())).collect();
    json!({"type": "object", "additionalProperties": false, "properties": units})
}

/// A built-in or clinic template's id.
pub(super) fn template_id() -> Value {
    json!({"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,63}$"})
}

/// A price to show: an amount of at most 7 digits and 2 decimals, in an ISO 4217 currency.
pub(super) fn price() -> Value {
    let amount = crate::domain::schema::trimmed("[0-9]{1,7}(\\.[0-9]{1,2})?");
    let currency = crate::domain::schema::trimmed("[A-Z]{3}");
    json!({"type": "object", "additionalProperties": false, "required": ["amount", "currency"],
           "properties": {"amount": amount, "currency": currency}})
}

/// An appointment's start: a time in the future that the calendar holds free (else 409).
fn start() -> Value {
    json!({"type": "string", "format": "date-time", "description": "A free start (GET availability): on the service's interval from local midnight, in the future, within 365 days, in working hours; any other is 409 (a taken one with the next free starts)"})
}

/// A day's working spans, `HH:MM` on a 5-minute step, in order.
fn spans() -> Value {
    let time = of::<LocalTime>();
    json!({"type": "array", "maxItems": MAX_SPANS, "items": {"type": "object", "additionalProperties": false,
        "required": ["start", "end"], "properties": {"start": time, "end": time}}})
}

/// Whole minutes in steps of 5 within `min..=max`.
fn minutes(min: u32, max: u32) -> Value {
    json!({"type": "integer", "minimum": min, "maximum": max, "multipleOf": 5})
}

/// Single-line text of 1 to `max` characters (kept trimmed).
pub(super) fn text(max: usize) -> Value {
    crate::domain::schema::trimmed_text(max, false)
}

/// The request bodies' schemas, and the problem's.
fn schemas() -> Value {
    let mut map = match administration_schemas() {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    map.extend(super::chart_schemas::schemas());
    let mut patches = Map::new();
    for (whole, patch) in PATCHES {
        let mut schema = map.get(*whole).cloned().unwrap_or_default();
        if let Some(properties) = schema["properties"].as_object_mut() {
            properties.remove("source");
        }
        let mut patch_schema = patch_of(&schema);
        patch_schema["description"] = json!(format!(
            "A JSON merge patch (RFC 7396) of {whole}: null removes a field the whole may lack, a nested object is itself a patch, a list is replaced whole; the result is checked as a whole{}",
            if *whole == "ClinicSettings" { "" } else { " (without source)" }
        ));
        patches.insert(patch.to_string(), patch_schema);
    }
    map.remove("ClinicSettings");
    for (name, schema) in map.iter_mut() {
        if name != "Problem" {
            null_means_absent(schema);
        }
    }
    map.extend(patches);
    for (name, schema) in super::answers::schemas() {
        assert!(map.insert(name.clone(), schema).is_none(), "an answer's schema and a request's are both named {name}");
    }
    map.insert(
        "FhirResource".into(),
        json!({"type": "object", "required": ["resourceType"], "description": "A FHIR R4 resource (a Bundle for a search)",
               "properties": {"resourceType": {"type": "string"}}}),
    );
    map.insert("FhirTransactionBundle".into(), transaction_bundle());
    map.insert(
        "OperationOutcome".into(),
        json!({"type": "object", "required": ["resourceType", "issue"], "properties": {
            "resourceType": {"const": "OperationOutcome"},
            "issue": {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["severity", "code"],
                "properties": {"severity": {"type": "string"}, "code": {"type": "string"},
                    "diagnostics": {"type": "string"}, "expression": {"type": "array", "items": {"type": "string"}}}}},
        }}),
    );
    Value::Object(map)
}

/// A FHIR transaction bundle an import takes: the outline of it (each resource is checked as FHIR, against
/// the create route it stands for).
fn transaction_bundle() -> Value {
    let types: Vec<&str> = crate::fhir::import::IMPORTED.iter().map(|t| t.as_str()).collect();
    json!({"type": "object", "required": ["resourceType", "type", "entry"],
    "description": "A FHIR R4 transaction Bundle. Chart resources name their patient by a Patient entry's fullUrl (urn:uuid:…) or as Patient/{id}; meta.source (of the bundle or the resource) names the sending system",
    "properties": {
        "resourceType": {"const": "Bundle"},
        "type": {"const": "transaction"},
        "meta": {"type": "object", "properties": {"source": {"type": "string", "maxLength": 200}}},
        "entry": {"type": "array", "minItems": 1, "maxItems": crate::fhir::import::MAX_ENTRIES, "items": {
            "type": "object", "required": ["resource", "request"],
            "properties": {
                "fullUrl": {"type": "string"},
                "resource": {"type": "object", "required": ["resourceType"],
                             "properties": {"resourceType": {"enum": types}}},
                "request": {"type": "object", "required": ["method", "url"],
                            "properties": {"method": {"const": "POST"}, "url": {"enum": types}}},
            }}},
    }})
}

/// The changes made with a JSON merge patch: the schema of the whole, and its patch's.
const PATCHES: &[(&str, &str)] = &[
    ("ClinicSettings", "ClinicPatch"),
    ("PatientDetails", "PatientPatch"),
    ("ResourceDetails", "ResourcePatch"),
    ("ServiceDetails", "ServicePatch"),
    ("Allergy", "AllergyPatch"),
    ("Medication", "MedicationPatch"),
    ("Condition", "ConditionPatch"),
    ("Vitals", "VitalsPatch"),
    ("Note", "NotePatch"),
    ("Treatment", "TreatmentPatch"),
    ("SafetyProduct", "SafetyProductPatch"),
    ("AestheticProfile", "AestheticProfilePatch"),
];

/// A JSON merge patch (RFC 7396) of what `schema` describes: any of its fields, none required; `null`
/// for one the whole may lack; a nested object is itself a patch, anything else is replaced whole. The
/// rules that tie fields together hold for the result, which the server checks after the merge.
fn patch_of(schema: &Value) -> Value {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        let mut whole = schema.clone();
        null_means_absent(&mut whole);
        return whole;
    };
    let required: Vec<&str> =
        schema["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let patched: Map<String, Value> = properties
        .iter()
        .map(|(name, property)| {
            let patch = patch_of(property);
            let patch =
                if required.contains(&name.as_str()) { patch } else { json!({"anyOf": [patch, {"type": "null"}]}) };
            (name.clone(), patch)
        })
        .collect();
    json!({"type": "object", "additionalProperties": false, "properties": patched})
}

/// In a request body an optional field may be `null`, which means absent: every object's optional
/// properties also accept `null`.
fn null_means_absent(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            let required: Vec<String> = map
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default();
            let is_object = map.get("type") == Some(&json!("object"));
            for (key, value) in map.iter_mut() {
                null_means_absent(value);
                if key == "properties"
                    && is_object
                    && let Value::Object(properties) = value
                {
                    for (name, property) in properties.iter_mut() {
                        if !required.contains(name) {
                            *property = json!({"anyOf": [property.take(), {"type": "null"}]});
                        }
                    }
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(null_means_absent),
        _ => {}
    }
}

/// A request body's schema as the route table names it, before `null` is let stand for an absent field.
pub(super) fn request_schema(name: &str) -> Value {
    let mut all = match administration_schemas() {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    all.extend(super::chart_schemas::schemas());
    all.remove(name).unwrap_or_else(|| panic!("no request body is named {name}"))
}

fn administration_schemas() -> Value {
    let phone = of::<Phone>();
    let staff_role = one_of(Role::STAFF);
    let email = of::<Email>();
    let country = of::<CountryCode>();
    let (id, user) = (of::<EntityId>(), of::<UserId>());
    json!({
        "Problem": {
            "type": "object",
            "required": ["type", "title", "status", "detail", "requestId"],
            "properties": {
                "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                "detail": {"type": "string"}, "requestId": {"type": "string"},
                "errors": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
                "ruleSet": {"type": "string", "description": "safety-alerts: the version of the rule set"},
                "alerts": {"type": "array", "items": {"$ref": "#/components/schemas/SafetyAlert"}, "description": "safety-alerts: every alert the check raised, worst first"},
                "unacknowledged": {"type": "array", "items": {"type": "string"}, "description": "safety-alerts: the blocking alerts' rule ids to acknowledge in safetyOverrides, or to plan around"},
                "withheld": {"type": "integer", "minimum": 0, "description": "safety-alerts: blocking alerts resting on chart entries the caller's role does not read (a practitioner or nurse must act on them)"},
            },
        },
        "NewClinic": {
            "type": "object",
            "additionalProperties": false,
            "required": ["name", "timeZone", "country", "contact", "admin"],
            "properties": {
                "name": text(200),
                "timeZone": of::<TimeZoneName>(),
                "country": country,
                "contact": {"type": "object", "additionalProperties": false, "required": ["email"], "properties": {"email": email, "phone": phone}},
                "language": {"enum": Language::ALL.iter().map(|l| l.as_str()).collect::<Vec<_>>(), "description": "messages to patients who give no language of these (en by default)"},
                "admin": {"type": "object", "additionalProperties": false, "required": ["displayName"],
                          "description": "The first administrator, invited: the answer's adminInvitationCode lets them join",
                          "properties": {"displayName": text(200), "email": email}},
            },
        },
        "NewStaff": {
            "type": "object",
            "additionalProperties": false,
            "required": ["role", "displayName"],
            "description": "An invitation: the answer's code (shown once) lets whoever signs in with it join as this member within 7 days",
            "properties": {
                "role": staff_role,
                "displayName": text(200),
                "email": email,
            },
        },
        "StaffJoin": {
            "type": "object",
            "additionalProperties": false,
            "required": ["code"],
            "properties": {"code": {"type": "string", "pattern": "^[A-Za-z0-9_-]{43}$"}},
        },
        "StaffChange": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "role": staff_role,
                "status": one_of(StaffStatus::ALL),
                "displayName": text(200),
            },
            "anyOf": [given("role"), given("status"), given("displayName")],
        },
        "PatientDetails": {
            "type": "object",
            "additionalProperties": false,
            "required": ["givenName", "familyName", "birthDate", "sexAtBirth"],
            "properties": {
                "givenName": text(200), "familyName": text(200), "preferredName": text(200),
                "birthDate": of::<BirthDate>(),
                "sexAtBirth": one_of(SexAtBirth::ALL),
                "genderIdentity": one_of(GenderIdentity::ALL),
                "pronouns": text(200), "phone": phone, "email": email,
                "address": {"type": "object", "additionalProperties": false, "required": ["lines", "city", "country"], "properties": {
                    "lines": {"type": "array", "minItems": 1, "maxItems": 3, "items": text(200)},
                    "city": text(200), "region": text(200), "postalCode": of::<PostalCode>(),
                    "country": country,
                }},
                "emergencyContact": {"type": "object", "additionalProperties": false, "required": ["name", "phone"],
                    "properties": {"name": text(200), "relationship": text(200), "phone": phone}},
                "insurance": {"type": "object", "additionalProperties": false, "required": ["payer", "memberId"],
                    "properties": {"payer": text(200), "memberId": text(200), "group": text(200)}},
                "preferredLanguage": of::<LanguageTag>(),
            },
        },
        "BreakGlassRequest": {
            "type": "object",
            "additionalProperties": false,
            "required": ["reason", "scope"],
            "properties": {
                "reason": text(200),
                "scope": one_of(Scope::all()),
                "minutes": {"type": "integer", "minimum": 1, "maximum": MAX_MINUTES, "default": DEFAULT_MINUTES},
            },
        },
        "BreakGlassReview": {
            "type": "object",
            "additionalProperties": false,
            "required": ["note"],
            "properties": {"note": text(200)},
        },
        "ResourceDetails": {
            "type": "object",
            "additionalProperties": false,
            "required": ["name", "kind"],
            "properties": {
                "name": text(200),
                "kind": one_of(ResourceKind::ALL),
                "status": one_of(CatalogueStatus::ALL),
            },
        },
        "ServiceDetails": {
            "type": "object",
            "additionalProperties": false,
            "required": ["name", "durationMinutes", "performedBy"],
            "properties": {
                "name": text(200),
                "durationMinutes": minutes(5, MAX_DURATION_MINUTES),
                "bufferBeforeMinutes": minutes(0, 120),
                "bufferAfterMinutes": minutes(0, 120),
                "intervalMinutes": minutes(5, 60),
                "performedBy": {
                    "type": "object", "additionalProperties": false,
                    "description": "Either a role (anyone of it performs the service) or the staff named",
                    "oneOf": [given("role"), given("staff")],
                    "properties": {
                        "role": {"enum": ["practitioner", "nurse"]},
                        "staff": {"type": "array", "minItems": 1, "maxItems": MAX_NAMED_STAFF, "items": user},
                    },
                },
                "resourceIds": {"type": "array", "maxItems": MAX_RESOURCES, "uniqueItems": true, "items": id},
                "formTemplateIds": {"type": "array", "maxItems": MAX_FORMS, "items": template_id()},
                "bookableOnline": {"type": "boolean", "default": false},
                "price": price(),
                "treatment": described(super::chart_schemas::treatment_plan(), "The treatment it is: a booking of it runs the safety check against the patient's chart"),
                "status": one_of(CatalogueStatus::ALL),
            },
        },
        "WorkingHours": {
            "type": "object",
            "additionalProperties": false,
            "required": ["weekly"],
            "description": "Local wall-clock times in the clinic's time zone; a day left out is not worked, a break is the gap between two spans",
            "properties": {
                "weekly": {"type": "object", "additionalProperties": false,
                    "properties": DAYS.iter().map(|d| (d.to_string(), spans())).collect::<Map<String, Value>>()},
                "overrides": {"type": "array", "maxItems": MAX_OVERRIDES, "items": {
                    "type": "object", "additionalProperties": false, "required": ["date", "hours"],
                    "properties": {"date": of::<Date>(), "hours": spans(), "note": text(200)},
                }},
            },
        },
        "Booking": {
            "type": "object",
            "additionalProperties": false,
            "required": ["patientId", "serviceId", "start"],
            "properties": {
                "patientId": id,
                "serviceId": id,
                "start": start(),
                "staffId": {"description": "Who performs it (by default the first of its performers who is free)", "allOf": [user]},
                "note": text(200),
                ACKNOWLEDGEMENTS: super::chart_schemas::acknowledgements(),
            },
        },
        "Reschedule": {
            "type": "object",
            "additionalProperties": false,
            "required": ["start"],
            "properties": {"start": start(), "staffId": user},
        },
        "StatusStep": {
            "type": "object",
            "additionalProperties": false,
            "required": ["status"],
            "properties": {
                "status": {"enum": ["confirmed", "arrived", "in-treatment", "completed", "no-show"]},
                "treatmentIds": {"type": "array", "maxItems": 20, "items": id, "description": "Only when completed"},
            },
            "anyOf": [{"properties": {"status": {"const": "completed"}}}, {"properties": {"treatmentIds": {"maxItems": 0}}}],
        },
        "Plan": {
            "type": "object",
            "additionalProperties": false,
            "required": ["name"],
            "description": "A clinic's plan: prices per unit that differ from the list (millionths of a dollar), units included each month, a monthly cap in dollars, what happens at the cap, and the burst quota in weighted units a minute",
            "properties": {
                "name": text(200),
                "prices": per_unit(),
                "included": per_unit(),
                "monthlyCapUsd": {"type": "integer", "minimum": 1, "maximum": 10_000_000},
                "atCap": one_of(AtCap::ALL),
                "burstUnitsPerMinute": {"type": "integer", "minimum": 10, "maximum": 1_000_000},
                "stripeCustomerId": crate::domain::schema::trimmed("cus_[A-Za-z0-9]{1,60}"),
            },
        },
        "BookingHold": {
            "type": "object",
            "additionalProperties": false,
            "required": ["serviceId", "start", "givenName", "familyName", "birthDate", "sexAtBirth", "phone"],
            "description": "A patient's request for a free start of an online service: held 15 minutes until the link texted to the phone confirms it",
            "properties": {
                "serviceId": id,
                "start": start(),
                "givenName": text(200),
                "familyName": text(200),
                "birthDate": of::<BirthDate>(),
                "sexAtBirth": {"enum": SexAtBirth::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>()},
                "phone": phone.clone(),
                "email": email.clone(),
            },
        },
        "Cancellation": {
            "type": "object",
            "additionalProperties": false,
            "required": ["reason"],
            "properties": {"reason": text(200)},
        },
        "ClinicSettings": {
            "type": "object",
            "additionalProperties": false,
            "required": ["name", "contact", "cancellationWindowHours", "language", "reminderHours"],
            "description": "What an administrator may change of their clinic",
            "properties": {
                "name": text(200),
                "contact": {"type": "object", "additionalProperties": false, "required": ["email"], "properties": {"email": email, "phone": phone}},
                "cancellationWindowHours": {"type": "integer", "minimum": 0, "maximum": MAX_CANCELLATION_WINDOW_HOURS, "description": "24 at first"},
                "language": one_of(Language::ALL),
                "reminderHours": {"type": "array", "maxItems": MAX_REMINDERS, "uniqueItems": true, "description": "Hours before an appointment; [24, 2] at first",
                    "items": {"type": "integer", "minimum": 1, "maximum": MAX_REMINDER_HOURS}},
                "bookingSlug": {"description": "The address of the clinic's booking page, /book/<slug>; none stops online booking", "allOf": [of::<BookingSlug>()]},
                "recordRetention": retention(),
            },
        },
        "NewErasureRequest": {
            "type": "object",
            "additionalProperties": false,
            "required": ["kind"],
            "description": "A patient's request to erase (GDPR Art. 17) or restrict (Art. 18) their record, as staff took it",
            "properties": {
                "kind": one_of(RightsKind::ALL),
                "grounds": {"description": "What the patient said", "allOf": [of::<LongText>()]},
                "receivedAt": {"description": "When the patient asked (now if absent): the answer is due a month after", "allOf": [of::<PastInstant>()]},
            },
        },
        "ErasureDecision": {
            "type": "object",
            "additionalProperties": false,
            "required": ["outcome", "reason"],
            "description": "An administrator's decision on an open request, with its reason",
            "properties": {"outcome": one_of(RightsOutcome::ALL), "reason": text(200)},
        },
    })
}

/// How long the clinic must keep a record where it practises.
fn retention() -> Value {
    json!({
        "type": "object", "additionalProperties": false, "required": ["jurisdiction", "years"],
        "description": "How long records must be kept where the clinic practises (none: an erasure erases photos only, and keeps the record restricted)",
        "properties": {
            "jurisdiction": {"description": "Where the duty comes from, as the clinic names it (e.g. DE, GB-ENG, US-CA)", "allOf": [text(200)]},
            "years": {"type": "integer", "minimum": 1, "maximum": MAX_RETENTION_YEARS, "description": "Years a record is kept after the patient's last care"},
            "minorsUntilAge": {"type": "integer", "minimum": 18, "maximum": 30, "description": "A record is kept at least until the patient reaches this age (the rule for minors' records)"},
        },
    })
}

/// What an `Idempotency-Key` may be: 1 to 255 visible ASCII characters.
pub const IDEMPOTENCY_KEY_PATTERN: &str = "^[!-~]{1,255}$";

/// What an `If-Match` may be: one of the ETags Vellum sends, a version number in quotes (weak or strong).
pub const ETAG_PATTERN: &str = "^(W/)?\"[0-9]{1,19}\"$";

/// The routes whose successful answer is a file or a page, by name, with its media type.
const FILE_ANSWERS: &[(&str, &str)] = &[
    ("usage.csv", "text/csv"),
    ("photos.view", "image/jpeg"),
    ("submissions.consent", "application/pdf"),
    ("calendar-feed.read", "text/calendar"),
    ("booking.page", "text/html"),
    ("booking.confirm-page", "text/html"),
    ("intake.page", "text/html"),
];

/// The routes answering a file that carries the `ETag` of the version it shows (a photo's consent, a FHIR resource).
const VERSIONED_FILES: &[&str] = &["photos.view", "fhir.read"];

/// Answers a route gives about the state of what it names, beyond those its kind of route gives.
const STATE_ANSWERS: &[(&str, u16, &str)] = &[
    ("availability.read", 409, "The service is retired, or the staffId named does not perform it"),
    ("photos.view", 409, "The photo is not processed yet, or its upload was rejected"),
    ("photos.view", 410, "The photo was erased"),
    ("exports.download", 409, "The export is not ready yet, or it failed (start a new one)"),
    (
        "erasure-requests.decide",
        409,
        "The request was decided already, the record is restricted already, or the patient has upcoming appointments (cancel them first)",
    ),
    (
        "erasure-requests.complete",
        409,
        "The request is not an erasure whose record is kept, or the record's retention period has not passed",
    ),
    (
        "erasure-requests.lift",
        409,
        "The request is not a restriction in force, or an erasure holds the record restricted",
    ),
    ("exports.download", 410, "The export's ZIP was deleted, seven days after it was ready"),
    ("treatments.create", 409, SAFETY_REFUSAL),
    ("treatments.update", 409, SAFETY_REFUSAL),
    ("medications.create", 409, SAFETY_REFUSAL),
    ("medications.update", 409, SAFETY_REFUSAL),
    (
        "appointments.book",
        409,
        "The time is taken (nextFree), or a blocking safety alert is not acknowledged (type safety-alerts), or the request conflicts with the state of what it names",
    ),
];

/// Why charting a treatment or a medication may be refused.
const SAFETY_REFUSAL: &str = "A blocking safety alert is not acknowledged (type safety-alerts: alerts and unacknowledged say which), or the request conflicts with the state of what it names";

/// The media type of a route's successful answer: JSON, but for the files and pages a few routes serve and
/// the FHIR face.
pub fn success_media(route: &Route) -> &'static str {
    if is_fhir_path(route.path) {
        return FHIR_JSON;
    }
    FILE_ANSWERS.iter().find(|(name, _)| *name == route.name).map_or("application/json", |(_, media)| media)
}

/// A FHIR search parameter: its documentation from the served table, the values the server reads.
fn fhir_parameter(name: &str) -> (String, Value) {
    let documentation = ResourceType::ALL
        .iter()
        .flat_map(|t| t.search_params())
        .find(|p| p.name == name)
        .map(|p| p.documentation.to_string())
        .unwrap_or_else(|| unreachable!("{name} is no search parameter of a served type"));
    let id = of::<EntityId>();
    let bare_id = id["pattern"].as_str().unwrap_or("^.*$").trim_start_matches('^').trim_end_matches('$').to_string();
    let day = "[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|1[0-9]|2[0-8]))?)?";
    let schema = match name {
        "patient" => json!({"type": "string", "pattern": format!("^(Patient/)?{bare_id}$")}),
        "_id" => id,
        "family" => json!({"type": "string", "maxLength": 200}),
        "birthdate" => json!({"type": "string", "format": "date"}),
        "identifier" => json!({"type": "string", "pattern": "^([^|]*[|])?[0-9]{8}$"}),
        "_lastUpdated" => json!({"type": "string", "pattern": format!("^(eq|gt|ge|lt|le)?{day}$")}),
        "_count" => json!({"type": "integer", "minimum": 1, "maximum": crate::fhir::search::MAX_COUNT}),
        _ => json!({"type": "string"}),
    };
    (format!("{documentation}. Other types' parameters are refused (400)"), schema)
}

/// A FHIR error: an OperationOutcome.
fn operation_outcome(description: &str) -> Value {
    json!({"description": description, "content": {FHIR_JSON: {"schema": {"$ref": "#/components/schemas/OperationOutcome"}}}})
}

/// Whether what a route makes can be read at an address of its own, a GET under the collection's path
/// that names it (`POST /v1/patients` makes `/v1/patients/{patientId}`): its 201 says where in `Location`.
pub fn has_own_address(route: &Route) -> bool {
    let prefix = format!("{}/{{", route.path);
    route.success_statuses().contains(&201)
        && route.method == "POST"
        && ROUTES.iter().any(|r| {
            r.method == "GET"
                && r.path.strip_prefix(&prefix).is_some_and(|rest| rest.ends_with('}') && !rest.contains('/'))
        })
}

/// Whether a route acts on one patient's record, named in its path, its FHIR id or search, or its body: a
/// restricted record refuses it, an erased one is gone.
fn names_patient(route: &Route) -> bool {
    route.path.contains("{patientId}")
        || (is_fhir_path(route.path) && route.name != "fhir.metadata")
        || matches!(route.name, "appointments.book" | "invitations.create")
}

/// Changes guarded by the version the caller read: updates, entered-in-error and signing.
fn needs_if_match(route: &Route) -> bool {
    route.method == "PATCH"
        || route.name.ends_with(".entered-in-error")
        || matches!(
            route.name,
            "notes.sign"
                | "photos.consent"
                | "photos.erase"
                | "erasure-requests.decide"
                | "appointments.cancel"
                | "appointments.reschedule"
                | "appointments.status"
        )
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    let answers = super::answers::answers();
    for route in ROUTES.iter() {
        let mut parameters = path_parameters(route.path);
        parameters.extend(route.query.iter().map(|q| query_parameter(route, q)));
        if route.method == "POST" {
            parameters.push(json!({"name": "Idempotency-Key", "in": "header", "required": false,
                "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
                "description": "1 to 255 visible ASCII characters: a retry with the same key (by the same caller, to the same route) returns the first response and writes nothing; the same key with another request is 422"}));
        }
        if route.replaces_versions() {
            parameters.push(json!({"name": "If-Match", "in": "header", "required": false, "schema": {"type": "string", "pattern": ETAG_PATTERN},
                "description": "The ETag of the version replaced; required once there is one"}));
        }
        if needs_if_match(route) {
            parameters.push(json!({"name": "If-Match", "in": "header", "required": true, "schema": {"type": "string", "pattern": ETAG_PATTERN},
                "description": "The ETag of the version the change is based on"}));
        }
        let answer = answers.iter().find(|a| a.route == route.name);
        let success_body = match (success_media(route), answer) {
            ("application/json", Some(answer)) => json!({"application/json": {"schema": answer.body}}),
            ("application/json", None) => unreachable!("the route {} has no answer's schema", route.name),
            (FHIR_JSON, _) => json!({FHIR_JSON: {"schema": {"$ref": "#/components/schemas/FhirResource"}}}),
            (media, _) => json!({media: {"schema": {"type": "string"}}}),
        };
        let mut responses = Map::new();
        for status in route.success_statuses() {
            let mut success = json!({"description": "Success", "content": success_body});
            if *status == 201 && has_own_address(route) {
                success["headers"]["Location"] = json!({"description": "Where what was made is read", "required": true, "schema": {"type": "string"}});
            }
            if answer.is_some_and(|a| a.etag) || VERSIONED_FILES.contains(&route.name) {
                success["headers"]["ETag"] = json!({"description": "The version shown: send it as If-Match to change it",
                    "required": true, "schema": {"type": "string", "pattern": ETAG_PATTERN}});
            }
            responses.insert(status.to_string(), success);
        }
        let roles: Vec<&str> = route.roles.iter().map(|r| r.as_str()).collect();
        let mut operation = json!({
            "operationId": route.name,
            "summary": route.summary,
            "description": format!("Roles: {}. Served by the `{}` function.", roles.join(", "), route.function),
            "x-vellum-roles": roles,
            "parameters": parameters,
            "responses": {
                "400": problem("Malformed request: a field is missing, unknown or of the wrong type"),
                "401": problem("No valid bearer token"),
                "403": problem("The role may not call this route, or the membership is inactive"),
                "404": problem("No such resource in the caller's clinic"),
                "422": problem("A field breaks a rule"),
                "503": problem("A dependency failed; nothing was changed"),
            },
        });
        if let Value::Object(declared) = &mut operation["responses"] {
            declared.extend(responses);
        }
        if route.is_public() {
            operation["security"] = json!([]);
            operation["responses"]["410"] = problem("The link was used");
            operation["responses"]["429"] = problem("Too many requests from this address this minute (Retry-After)");
            operation["description"] = json!(
                "No staff login: the link's token in the path is the credential. Rate limited per address (429). A wrong, expired or revoked link is 404; a used one 410."
            );
        }
        if let Some(schema) = route.body {
            let reference = json!({"schema": {"$ref": format!("#/components/schemas/{schema}")}});
            let media: Map<String, Value> =
                route.body_media().iter().map(|m| (m.to_string(), reference.clone())).collect();
            operation["requestBody"] = json!({"required": true, "content": media});
            let limit = format!("The body is larger than {} KiB", route.body_limit() / 1024);
            operation["responses"]["413"] = problem(&match route.name {
                "fhir.transaction" => format!(
                    "{limit}, or the bundle holds more than {} entries or needs more writes than one transaction takes (the detail says how many)",
                    crate::fhir::import::MAX_ENTRIES
                ),
                _ => limit,
            });
            operation["responses"]["415"] = problem("The body is not JSON");
        }
        if needs_if_match(route) {
            operation["responses"]["412"] = problem("The resource changed since it was read");
            operation["responses"]["428"] = problem("If-Match is missing");
            operation["responses"]["409"] = problem("The change conflicts with the resource's state");
        }
        if route.replaces_versions() {
            operation["responses"]["412"] =
                problem("The resource changed since it was read, or If-Match named a version where there is none");
            operation["responses"]["428"] = problem("If-Match is missing and there is a version to replace");
        }
        if route.method == "POST" {
            operation["responses"]["409"] = problem("The request conflicts with the state of what it names");
        }
        if let Some(unit) = crate::metering::route_unit(route) {
            let price = unit.price();
            operation["x-vellum-unit"] =
                json!({"unit": unit, "weight": price.weight, "priceUsd": crate::metering::dollars(price.micro_usd)});
        }
        if crate::metering::counts_against_quota(route) {
            operation["responses"]["429"] =
                problem("The clinic used its plan's burst quota for this minute (RateLimit headers, Retry-After)");
        }
        if names_patient(route) {
            operation["responses"]["403"] = problem(
                "The role may not call this route, the membership is inactive, or the patient's record is restricted (GDPR Art. 18: only administrators open it)",
            );
            operation["responses"]["410"] =
                problem("The patient's record was erased at their request: only its access log remains");
            if route.method != "GET" {
                operation["responses"]["409"] = problem(
                    "The request conflicts with the state of what it names, or the patient's record is restricted (nothing new is written to it)",
                );
            }
        }
        for (_, status, description) in STATE_ANSWERS.iter().filter(|(name, ..)| *name == route.name) {
            operation["responses"][status.to_string()] = problem(description);
        }
        if crate::metering::stops_at_hard_cap(route) {
            operation["responses"]["402"] = problem("The clinic's hard plan reached this month's spend cap");
        }
        if is_fhir_path(route.path) {
            operation["responses"]["400"] =
                problem("An unknown resource type or search parameter, a parameter given twice, or a malformed value");
            if let Some(responses) = operation["responses"].as_object_mut() {
                for response in responses.values_mut().filter(|r| r["content"]["application/problem+json"].is_object())
                {
                    *response = operation_outcome(response["description"].as_str().unwrap_or(""));
                }
            }
        }
        let entry = paths.entry(route.path.to_string()).or_insert_with(|| json!({}));
        entry[route.method.to_ascii_lowercase()] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Vellum API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "An electronic medical record for clinics. Every call is audited."},
        "servers": [{"url": "http://127.0.0.1:3000", "description": "the local server"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": schemas(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_in_the_document_with_its_parameters() {
        let doc = document();
        for route in ROUTES.iter() {
            let op = &doc["paths"][route.path][route.method.to_ascii_lowercase()];
            assert_eq!(op["operationId"], route.name);
            let names: Vec<&str> =
                op["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
            for q in route.query {
                assert!(names.contains(q), "{route:?} lacks {q}");
            }
            if let Some(schema) = route.body {
                assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
            }
        }
    }

    #[test]
    fn every_json_answer_has_one_schema_and_every_schema_a_json_route() {
        let answers = super::super::answers::answers();
        for route in ROUTES.iter() {
            let count = answers.iter().filter(|a| a.route == route.name).count();
            let json = success_media(route) == "application/json";
            assert_eq!(count, usize::from(json), "{}: {count} answers' schemas", route.name);
        }
        for answer in &answers {
            assert!(ROUTES.iter().any(|r| r.name == answer.route), "no route {}", answer.route);
        }
        let doc = document();
        let text = doc.to_string();
        for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = &reference[..reference.find('"').unwrap()];
            assert!(doc["components"]["schemas"][name].is_object(), "{name} is referred to but not declared");
        }
    }

    #[test]
    fn a_201_says_where_what_it_made_is_only_when_that_has_an_address() {
        let named = |name: &str| crate::http::routes::named(name).unwrap_or_else(|| panic!("no route {name}"));
        for made in ["patients.create", "appointments.book", "services.create", "allergies.create", "photos.create"] {
            assert!(has_own_address(named(made)), "{made}");
        }
        for unaddressed in [
            "staff.create",
            "resources.create",
            "break-glass.open",
            "clinics.create",
            "invitations.create",
            "intake.submit",
            "forms.templates.save",
            "allergies.entered-in-error",
        ] {
            assert!(!has_own_address(named(unaddressed)), "{unaddressed}");
        }
    }

    #[test]
    fn the_headers_patterns_accept_what_the_server_accepts() {
        let (etag, key) =
            (regex::Regex::new(ETAG_PATTERN).unwrap(), regex::Regex::new(IDEMPOTENCY_KEY_PATTERN).unwrap());
        for probe in ["\"3\"", "W/\"3\"", "*", "3", "\"+3\"", "\"\"", "\"12345678901234567890\"", " \"3\"", "W/\"03\""]
        {
            assert_eq!(etag.is_match(probe), super::super::input::etag_version(probe).is_some(), "{probe}");
        }
        let long = "k".repeat(256);
        for probe in ["a", "retry-1", "", "has space", "tab\t", "é", &long[..255], &long] {
            assert_eq!(key.is_match(probe), super::super::pipeline::is_idempotency_key(probe), "{probe:?}");
        }
    }

    #[test]
    fn an_operation_names_its_price_and_the_refusals_of_the_clinic_s_plan() {
        let doc = document();
        let create = &doc["paths"]["/v1/patients"]["post"];
        assert_eq!(create["x-vellum-unit"]["unit"], "record-write");
        assert!(create["responses"]["429"].is_object() && create["responses"]["402"].is_object());
        let allergy = &doc["paths"]["/v1/patients/{patientId}/allergies"]["post"];
        assert!(allergy["responses"]["429"].is_object() && allergy["responses"]["402"].is_null());
        let chart = &doc["paths"]["/v1/patients/{patientId}/chart"]["get"];
        assert_eq!(chart["x-vellum-unit"]["unit"], "record-read");
        assert!(chart["responses"]["429"].is_null(), "a chart is never held back");
        assert!(doc["paths"]["/v1/clinics"]["post"]["x-vellum-unit"].is_null(), "the operator's calls are free");
        let csv = &doc["paths"]["/v1/usage.csv"]["get"]["responses"]["200"]["content"];
        assert!(csv["text/csv"].is_object() && csv["application/json"].is_null(), "the ledger's CSV says it is CSV");
        // Every name the table knows is a route's (a renamed route would silently become JSON).
        for (named, media) in FILE_ANSWERS {
            let route = crate::http::routes::named(named).unwrap_or_else(|| panic!("no route {named}"));
            assert_eq!(success_media(route), *media, "{named}");
        }
        for named in VERSIONED_FILES {
            let route = crate::http::routes::named(named).unwrap_or_else(|| panic!("no route {named}"));
            assert_ne!(
                success_media(route),
                "application/json",
                "{named} is a JSON answer: its Answer says it is versioned"
            );
        }
    }
}
