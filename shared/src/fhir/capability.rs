//! The CapabilityStatement at `/fhir/R4/metadata`, generated from the resource types and search
//! parameters served and the roles that read each.

use serde_json::{Value, json};

use super::{FHIR_VERSION, ResourceType};
use crate::domain::break_glass::Scope;
use crate::domain::role::Role;
use crate::http::routes;

/// Whether `role` reads a resource type: as it reads the chart section, or the route of the JSON API, the
/// type is read from; a Provenance with the entry it is of (so by the roles that read any chart type).
pub fn reads(resource_type: ResourceType, role: Role) -> bool {
    if let Some(kind) = resource_type.chart_kind() {
        return routes::reads_chart(kind, role);
    }
    match resource_type.read_route() {
        Some(name) => routes::named(name).is_some_and(|r| r.allows(role)),
        None => ResourceType::ALL.iter().filter_map(|t| t.chart_kind()).any(|kind| routes::reads_chart(kind, role)),
    }
}

/// The break-glass scope that opens a type to a role that does not read it: its chart section's, or the
/// photos' for Media (a Provenance opens with its entry's type).
pub fn break_glass_scope(resource_type: ResourceType) -> Option<Scope> {
    match resource_type.chart_kind() {
        Some(kind) => Some(Scope::Chart(kind)),
        None if resource_type == ResourceType::Media => Some(Scope::Photos),
        None => None,
    }
}

/// The roles that read a resource type.
pub fn readers(resource_type: ResourceType) -> Vec<Role> {
    Role::STAFF.iter().copied().filter(|r| reads(resource_type, *r)).collect()
}

/// The statement, dated `date` (YYYY-MM-DD).
pub fn statement(date: &str) -> Value {
    let resources: Vec<Value> = ResourceType::ALL
        .iter()
        .map(|t| {
            let roles: Vec<&str> = readers(*t).iter().map(|r| r.as_str()).collect();
            let params: Vec<Value> = t
                .search_params()
                .iter()
                .map(|p| json!({ "name": p.name, "type": p.kind, "documentation": p.documentation }))
                .collect();
            let mut resource = json!({
                "type": t.as_str(),
                "documentation": format!("Read by the roles {}; every read is in the patient's access log", roles.join(", ")),
                "interaction": [{ "code": "read" }, { "code": "search-type" }],
                "versioning": "versioned",
                "readHistory": false,
                "searchParam": params,
            });
            if *t == ResourceType::Patient {
                resource["operation"] = json!([{ "name": "everything",
                    "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                    "documentation": "The patient and every resource of the types the caller's role reads (the chart, photos, forms, consents, provenance, appointments, the access log); _count and _cursor" }]);
            }
            resource
        })
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "publisher": "Vellum",
        "kind": "instance",
        "software": { "name": "Vellum", "version": env!("CARGO_PKG_VERSION") },
        "implementation": { "description": "Vellum's FHIR R4 face over its records: read, search, and the import of a transaction bundle" },
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [{
            "mode": "server",
            "security": {
                "cors": true,
                "service": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "OAuth" }] }],
                "description": "A staff member's bearer token (the same as the JSON API's); roles and tenancy as there",
            },
            "resource": resources,
            "interaction": [{ "code": "transaction", "documentation": import_documentation() }],
        }],
    })
}

/// What the transaction interaction writes, from the types an import takes.
fn import_documentation() -> String {
    let types: Vec<&str> = super::import::IMPORTED.iter().map(|t| t.as_str()).collect();
    format!(
        "An import: {} entries (an Observation is a vital sign; a Procedure names its kind in {}), all written or none (by the roles that write charts)",
        types.join(", "),
        super::procedure::TREATMENT_TYPES
    )
}
