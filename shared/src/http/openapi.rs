//! The OpenAPI 3.1 document of the API, generated from the route table (served by the local host).

use serde_json::{Map, Value, json};

use super::routes::{ROUTES, Route};
use crate::domain::break_glass::{DEFAULT_MINUTES, MAX_MINUTES, Scope};
use crate::domain::patient::{GenderIdentity, SexAtBirth};
use crate::domain::role::Role;
use crate::domain::scheduling::CatalogueStatus;
use crate::domain::scheduling::hours::{DAYS, MAX_OVERRIDES, MAX_SPANS};
use crate::domain::scheduling::resource::ResourceKind;
use crate::domain::scheduling::service::{MAX_DURATION_MINUTES, MAX_FORMS, MAX_NAMED_STAFF, MAX_RESOURCES};
use crate::domain::staff::StaffStatus;
use crate::messages::templates::Language;

/// The E.164 pattern the `Phone` type enforces.
const PHONE_PATTERN: &str = "^\\+[1-9][0-9]{6,14}$";

/// A string enum's schema, from the enum's own list of values.
pub(super) fn one_of<T: Copy + std::fmt::Display>(values: &[T]) -> Value {
    json!({"enum": values.iter().map(|v| v.to_string()).collect::<Vec<_>>()})
}

fn query_parameter(name: &str) -> Value {
    let (description, schema) = match name {
        "limit" => ("Page size, 1 to 100 (25 by default)", json!({"type": "integer", "minimum": 1, "maximum": 100})),
        "cursor" => ("The nextCursor of the previous page", json!({"type": "string"})),
        "familyName" => ("Family-name prefix (accents, case and punctuation ignored)", json!({"type": "string"})),
        "birthDate" => ("Date of birth", json!({"type": "string", "format": "date"})),
        "phone" => ("Phone number, E.164", json!({"type": "string", "pattern": PHONE_PATTERN})),
        "mrn" => ("Medical record number", json!({"type": "string", "pattern": "^[0-9]{8}$"})),
        "patientId" => ("Events about this patient", json!({"type": "string"})),
        "actor" => ("Events by this user", json!({"type": "string"})),
        "from" => ("Earliest event time", json!({"type": "string", "format": "date-time"})),
        "to" => ("Latest event time", json!({"type": "string", "format": "date-time"})),
        "includeEnteredInError" => ("Also list entries marked entered-in-error", json!({"type": "boolean"})),
        "lotNumber" => ("The lot number (spaces, dashes and case ignored)", json!({"type": "string"})),
        "product" => ("Product-name prefix", json!({"type": "string"})),
        "manufacturer" => ("Manufacturer-name prefix", json!({"type": "string"})),
        "bodyArea" => ("Body area (accents and case ignored)", json!({"type": "string"})),
        "view" => ("Standard view", one_of(crate::domain::photo::StandardView::ALL)),
        "treatmentId" => ("Photos of this treatment", json!({"type": "string"})),
        "version" => ("A version of the template (the latest by default)", json!({"type": "integer", "minimum": 1})),
        "capturedFrom" => ("Taken on or after this day", json!({"type": "string", "format": "date"})),
        "capturedTo" => ("Taken on or before this day", json!({"type": "string", "format": "date"})),
        "rendition" => (
            "display (long edge 2048 px, the default) or thumbnail (320 px)",
            one_of(crate::domain::photo::Rendition::ALL),
        ),
        "purpose" => (
            "What the image is shown for; its consent must cover it",
            json!({"enum": ["clinical", "education", "marketing"]}),
        ),
        "status" => ("unreviewed (the default) or reviewed", json!({"enum": ["unreviewed", "reviewed"]})),
        "clinicId" => ("A clinic's id, or platform for events of no clinic", json!({"type": "string"})),
        _ => ("", json!({"type": "string"})),
    };
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect()
}

fn problem(description: &str) -> Value {
    json!({"description": description, "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})
}

/// A day's working spans, `HH:MM` on a 5-minute step, in order.
fn spans() -> Value {
    let time = json!({"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][05]$|^24:00$"});
    json!({"type": "array", "maxItems": MAX_SPANS, "items": {"type": "object", "additionalProperties": false,
        "required": ["start", "end"], "properties": {"start": time, "end": time}}})
}

/// Whole minutes in steps of 5 within `min..=max`.
fn minutes(min: u32, max: u32) -> Value {
    json!({"type": "integer", "minimum": min, "maximum": max, "multipleOf": 5})
}

pub(super) fn text(max: u32) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": max})
}

fn schemas() -> Value {
    let mut all = administration_schemas();
    if let Value::Object(map) = &mut all {
        map.extend(super::chart_schemas::schemas());
    }
    all
}

fn administration_schemas() -> Value {
    let phone = json!({"type": "string", "pattern": PHONE_PATTERN});
    let staff_role = one_of(Role::STAFF);
    let email = json!({"type": "string", "format": "email"});
    json!({
        "Problem": {
            "type": "object",
            "required": ["type", "title", "status", "detail", "requestId"],
            "properties": {
                "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                "detail": {"type": "string"}, "requestId": {"type": "string"},
                "errors": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
            },
        },
        "NewClinic": {
            "type": "object",
            "additionalProperties": false,
            "required": ["name", "timeZone", "country", "contact", "admin"],
            "properties": {
                "name": text(200),
                "timeZone": {"type": "string", "description": "IANA time zone"},
                "country": {"type": "string", "pattern": "^[A-Za-z]{2}$"},
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
            "minProperties": 1,
            "properties": {
                "role": staff_role,
                "status": one_of(StaffStatus::ALL),
                "displayName": text(200),
            },
        },
        "PatientDetails": {
            "type": "object",
            "additionalProperties": false,
            "required": ["givenName", "familyName", "birthDate", "sexAtBirth"],
            "properties": {
                "givenName": text(200), "familyName": text(200), "preferredName": text(200),
                "birthDate": {"type": "string", "format": "date", "description": "Not in the future, not before 1880"},
                "sexAtBirth": one_of(SexAtBirth::ALL),
                "genderIdentity": one_of(GenderIdentity::ALL),
                "pronouns": text(200), "phone": phone, "email": email,
                "address": {"type": "object", "additionalProperties": false, "required": ["lines", "city", "country"], "properties": {
                    "lines": {"type": "array", "minItems": 1, "maxItems": 3, "items": text(200)},
                    "city": text(200), "region": text(200), "postalCode": {"type": "string", "maxLength": 16},
                    "country": {"type": "string", "pattern": "^[A-Za-z]{2}$"},
                }},
                "emergencyContact": {"type": "object", "additionalProperties": false, "required": ["name", "phone"],
                    "properties": {"name": text(200), "relationship": text(200), "phone": phone}},
                "insurance": {"type": "object", "additionalProperties": false, "required": ["payer", "memberId"],
                    "properties": {"payer": text(200), "memberId": text(200), "group": text(200)}},
                "preferredLanguage": {"type": "string", "description": "BCP 47 tag"},
            },
        },
        "BreakGlassRequest": {
            "type": "object",
            "additionalProperties": false,
            "required": ["reason", "scope"],
            "properties": {
                "reason": text(200),
                "scope": one_of(&Scope::all()),
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
        "ResourcePatch": {
            "description": "A JSON merge patch (RFC 7396) of ResourceDetails",
            "type": "object",
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
                    "properties": {
                        "role": {"enum": ["practitioner", "nurse"]},
                        "staff": {"type": "array", "minItems": 1, "maxItems": MAX_NAMED_STAFF, "items": {"type": "string"}},
                    },
                },
                "resourceIds": {"type": "array", "maxItems": MAX_RESOURCES, "uniqueItems": true, "items": {"type": "string"}},
                "formTemplateIds": {"type": "array", "maxItems": MAX_FORMS, "items": {"type": "string"}},
                "bookableOnline": {"type": "boolean", "default": false},
                "price": {"type": "object", "additionalProperties": false, "required": ["amount", "currency"], "properties": {
                    "amount": {"type": "string", "pattern": "^[0-9]{1,7}(\\.[0-9]{1,2})?$"},
                    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                }},
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
                    "properties": {"date": {"type": "string", "format": "date"}, "hours": spans(), "note": text(200)},
                }},
            },
        },
        "Booking": {
            "type": "object",
            "additionalProperties": false,
            "required": ["patientId", "serviceId", "start"],
            "properties": {
                "patientId": {"type": "string"},
                "serviceId": {"type": "string"},
                "start": {"type": "string", "format": "date-time", "description": "On the service's interval from local midnight, in the future, within 365 days"},
                "staffId": {"type": "string", "description": "Who performs it (by default the first of its performers who is free)"},
                "note": text(200),
            },
        },
        "Reschedule": {
            "type": "object",
            "additionalProperties": false,
            "required": ["start"],
            "properties": {"start": {"type": "string", "format": "date-time"}, "staffId": {"type": "string"}},
        },
        "StatusStep": {
            "type": "object",
            "additionalProperties": false,
            "required": ["status"],
            "properties": {
                "status": {"enum": ["confirmed", "arrived", "in-treatment", "completed", "no-show"]},
                "treatmentIds": {"type": "array", "maxItems": 20, "items": {"type": "string"}},
            },
        },
        "Plan": {
            "type": "object",
            "additionalProperties": false,
            "required": ["name"],
            "description": "A clinic's plan: prices per unit that differ from the list (millionths of a dollar), units included each month, a monthly cap in dollars, what happens at the cap, and the burst quota in weighted units a minute",
            "properties": {
                "name": text(200),
                "prices": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
                "included": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
                "monthlyCapUsd": {"type": "integer", "minimum": 1},
                "atCap": {"enum": ["soft", "hard"]},
                "burstUnitsPerMinute": {"type": "integer", "minimum": 10},
            },
        },
        "BookingHold": {
            "type": "object",
            "additionalProperties": false,
            "required": ["serviceId", "start", "givenName", "familyName", "birthDate", "sexAtBirth", "phone"],
            "description": "A patient's request for a free start of an online service: held 15 minutes until the link texted to the phone confirms it",
            "properties": {
                "serviceId": {"type": "string"},
                "start": {"type": "string", "format": "date-time"},
                "givenName": text(200),
                "familyName": text(200),
                "birthDate": {"type": "string", "format": "date"},
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
        "ServicePatch": {
            "description": "A JSON merge patch (RFC 7396) of ServiceDetails",
            "type": "object",
        },
        "ClinicPatch": {
            "description": "A JSON merge patch of {name, contact: {email, phone}, cancellationWindowHours (0 to 168, 24 at first), language (en, sv or es), reminderHours (up to 3 distinct whole hours of 1 to 168 before an appointment; [24, 2] at first), bookingSlug (the address of the clinic's booking page, /book/<slug>: 3 to 40 lower-case letters, digits or hyphens; null stops online booking)}",
            "type": "object",
        },
        "PatientPatch": {
            "description": "A JSON merge patch (RFC 7396) of PatientDetails: null removes an optional field",
            "type": "object",
        },
    })
}

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

/// The media type of a route's successful answer: JSON, but for the files and pages a few routes serve.
pub fn success_media(route: &Route) -> &'static str {
    FILE_ANSWERS.iter().find(|(name, _)| *name == route.name).map_or("application/json", |(_, media)| media)
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
                | "appointments.cancel"
                | "appointments.reschedule"
                | "appointments.status"
        )
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES.iter() {
        let mut parameters = path_parameters(route.path);
        parameters.extend(route.query.iter().map(|q| query_parameter(q)));
        if route.method == "POST" {
            parameters.push(json!({"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "maxLength": 255},
                "description": "A retry with the same key returns the first response and writes nothing"}));
        }
        if route.method == "PUT" {
            parameters
                .push(json!({"name": "If-Match", "in": "header", "required": false, "schema": {"type": "string"},
                "description": "The ETag of the version replaced; required once there is one"}));
        }
        if needs_if_match(route) {
            parameters.push(json!({"name": "If-Match", "in": "header", "required": true, "schema": {"type": "string"},
                "description": "The ETag of the version the change is based on"}));
        }
        let success = if route.method == "POST" { "201" } else { "200" };
        let success_body = match success_media(route) {
            "application/json" => json!({"application/json": {"schema": {"type": "object"}}}),
            media => json!({media: {"schema": {"type": "string"}}}),
        };
        let roles: Vec<&str> = route.roles.iter().map(|r| r.as_str()).collect();
        let mut operation = json!({
            "operationId": route.name,
            "summary": route.summary,
            "description": format!("Roles: {}. Served by the `{}` function.", roles.join(", "), route.function),
            "x-vellum-roles": roles,
            "parameters": parameters,
            "responses": {
                success: {"description": "Success", "content": success_body},
                "400": problem("Malformed request: a field is missing, unknown or of the wrong type"),
                "401": problem("No valid bearer token"),
                "403": problem("The role may not call this route, or the membership is inactive"),
                "404": problem("No such resource in the caller's clinic"),
                "422": problem("A field breaks a rule"),
                "503": problem("A dependency failed; nothing was changed"),
            },
        });
        if route.is_public() {
            operation["security"] = json!([]);
            operation["description"] = json!(
                "No staff login: the link's token in the path is the credential. Rate limited per address (429). A wrong, expired or revoked link is 404; a used one 410."
            );
        }
        if let Some(schema) = route.body {
            let reference = json!({"schema": {"$ref": format!("#/components/schemas/{schema}")}});
            let media: Map<String, Value> =
                route.body_media().iter().map(|m| (m.to_string(), reference.clone())).collect();
            operation["requestBody"] = json!({"required": true, "content": media});
            operation["responses"]["413"] = problem("The body is larger than 64 KiB");
            operation["responses"]["415"] = problem("The body is not JSON");
        }
        if needs_if_match(route) {
            operation["responses"]["412"] = problem("The resource changed since it was read");
            operation["responses"]["428"] = problem("If-Match is missing");
            operation["responses"]["409"] = problem("The change conflicts with the resource's state");
        }
        if route.method == "POST" {
            operation["responses"]["409"] = problem("The resource already exists");
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
        if crate::metering::stops_at_hard_cap(route) {
            operation["responses"]["402"] = problem("The clinic's hard plan reached this month's spend cap");
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
            let route = ROUTES.iter().find(|r| r.name == *named).unwrap_or_else(|| panic!("no route {named}"));
            assert_eq!(success_media(route), *media, "{named}");
        }
    }
}
