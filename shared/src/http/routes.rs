//! The route table: every route, its function, and which roles may call it. Nothing else grants access.

use std::future::Future;
use std::pin::Pin;

use super::input::Input;
use super::outcome::Outcome;
use super::pipeline::Ctx;
use super::problem::ApiError;
use crate::api;
use crate::domain::break_glass::{BREAKERS, Scope};
use crate::domain::chart::ChartKind;
use crate::domain::role::Role;
use crate::store::Table;

pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Outcome, ApiError>> + Send>>;
pub type Handler = fn(Ctx, Input) -> HandlerFuture;

/// A store operation a route performs; the deployment grants exactly these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Get,
    Query,
    Put,
    Update,
    Delete,
}

/// An operation on the photo bucket or with the data key; the deployment grants exactly these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Grant {
    /// Sign upload URLs into the quarantine prefix.
    PresignQuarantine,
    /// Read and empty the quarantine prefix.
    DrainQuarantine,
    /// Write sealed renditions.
    WritePhotos,
    /// Read sealed renditions.
    ReadPhotos,
    /// Delete sealed renditions and pending uploads.
    DeletePhotos,
    /// List the sealed renditions' keys (the bucket's `photos/` prefix only).
    ListPhotos,
    /// Write batches into the audit archive bucket (`audit/`; Object Lock keeps every version).
    ArchiveAudit,
    /// List and read the audit archive's batches (`audit/`), to verify them.
    ReadAuditArchive,
    /// Read and write the billing export (`exports/usage/` in the audit archive's bucket).
    ExportUsage,
    /// New data keys under a photo's encryption context.
    GenerateDataKey,
    /// Unwrap data keys under a photo's encryption context.
    DecryptDataKey,
    /// Send e-mail through SES, from the configured sender only.
    SendEmail,
    /// Send text messages through SNS, to phone numbers only (no topic).
    SendSms,
    /// Sign download links of patients' exports (`exports/`).
    PresignExports,
    /// Write and delete patients' exports (`exports/`).
    WriteExports,
}

impl Grant {
    /// Whether it concerns the audit archive.
    pub const fn is_archive(self) -> bool {
        matches!(self, Grant::ArchiveAudit | Grant::ReadAuditArchive | Grant::ExportUsage)
    }

    /// Whether it sends messages.
    pub const fn is_messages(self) -> bool {
        matches!(self, Grant::SendEmail | Grant::SendSms)
    }

    /// Whether it concerns the photo bucket and keys.
    pub const fn is_photos(self) -> bool {
        !self.is_archive() && !self.is_messages()
    }
}

/// One route of the API (what it is; the code that serves it is beside it in [`Served`]).
#[derive(Clone, Copy)]
pub struct Route {
    /// The audit event name, e.g. `patients.read`.
    pub name: &'static str,
    /// The Lambda function (and binary) that serves it.
    pub function: &'static str,
    pub method: &'static str,
    /// Path template, in the syntax both API Gateway and the router use.
    pub path: &'static str,
    pub summary: &'static str,
    /// The query parameters it accepts; any other is refused.
    pub query: &'static [&'static str],
    /// The body schema it takes (a name under `components.schemas` in the OpenAPI document).
    pub body: Option<&'static str>,
    pub roles: &'static [Role],
    /// What it does to which table, beyond the identity check every route makes.
    pub access: &'static [(Table, Op)],
    /// The kind of chart entry a chart route serves.
    pub chart: Option<ChartKind>,
    /// What it does to the photo bucket and with the data key.
    pub grants: &'static [Grant],
}

/// A route and the code that serves it: an entry of the table.
#[derive(Clone, Copy)]
pub struct Served {
    pub route: Route,
    pub handler: Handler,
}

impl Route {
    pub fn allows(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// A route for patients' invitation links: no staff token; the link's token is the credential.
    pub fn is_public(&self) -> bool {
        self.roles == [Role::Patient]
    }

    /// What it answers when it succeeds: a POST that makes something 201 (a booking request held for
    /// its confirmation 202), one that acts on what exists 200; a PUT 200, and 201 where it may create.
    pub fn success_statuses(&self) -> &'static [u16] {
        const ACTIONS: &[&str] = &[
            "fhir.transaction",
            "staff.join",
            "break-glass.review",
            "appointments.cancel",
            "appointments.reschedule",
            "appointments.status",
            "calendar-feed.revoke",
            "booking.confirm",
            "photos.consent",
            "photos.erase",
            "photos.erase-all",
            "invitations.revoke",
            "submissions.accept",
            "notes.sign",
            "safety.check",
            "erasure-requests.decide",
            "erasure-requests.complete",
            "erasure-requests.lift",
        ];
        match (self.method, self.name) {
            ("POST", "booking.hold") => &[202],
            ("POST", name) if ACTIONS.contains(&name) || name.ends_with(".entered-in-error") => &[200],
            ("POST", _) => &[201],
            ("PUT", "forms.templates.save") => &[200, 201],
            _ => &[200],
        }
    }

    /// Whether it replaces a whole versioned thing (a PUT but a patient's draft): the first time without
    /// `If-Match`, afterwards on the version read.
    pub fn replaces_versions(&self) -> bool {
        self.method == "PUT" && self.name != "intake.draft"
    }

    /// The largest body the route takes: patients' forms carry drawn signatures (bounded so that a link's
    /// item and a submission stay within a DynamoDB item's 400 KB).
    pub fn body_limit(&self) -> usize {
        match self.name {
            "fhir.transaction" => super::input::MAX_BUNDLE_BYTES,
            _ if self.is_public() => 256 * 1024,
            _ => super::input::MAX_BODY_BYTES,
        }
    }

    /// Whether it may seal or open something with the deployment's keys: a page's cursor, or (any change)
    /// a stored reply's or a queued message's credentials. Its calls wait for the keys to be read.
    pub fn uses_keys(&self) -> bool {
        self.method != "GET" || self.pages()
    }

    /// Whether its answers come in pages, continued by a sealed cursor (`_cursor` on the FHIR face).
    pub fn pages(&self) -> bool {
        self.query.iter().any(|q| matches!(*q, "cursor" | "_cursor"))
    }

    /// The media types its body may be sent as: a merge patch (or plain JSON) for a partial change, JSON
    /// otherwise.
    pub fn body_media(&self) -> &'static [&'static str] {
        match self.body {
            Some(schema) if self.method == "PATCH" && schema.ends_with("Patch") => {
                &["application/merge-patch+json", "application/json"]
            }
            Some(_) if crate::fhir::outcome::is_fhir_path(self.path) => &[crate::fhir::FHIR_JSON, "application/json"],
            _ => &["application/json"],
        }
    }

    /// The break-glass scope that opens this route to a role it does not name: the reads of a chart kind
    /// and of photos.
    pub fn break_glass_scope(&self) -> Option<Scope> {
        match self.chart {
            _ if self.method != "GET" => None,
            Some(kind) => Some(Scope::Chart(kind)),
            None if self.name.starts_with("photos.") => Some(Scope::Photos),
            None => None,
        }
    }

    /// Every operation, including the membership read and the audit write all routes make (and the
    /// break-glass lookup of the routes it may open, and the quota's counter of the metered ones).
    pub fn operations(&self) -> Vec<(Table, Op)> {
        let mut ops = vec![(Table::Records, Op::Get), (Table::Audit, Op::Put)];
        if self.break_glass_scope().is_some() {
            ops.push((Table::Records, Op::Query));
        }
        // The clinic's burst quota: one counter update a call.
        if crate::metering::counts_against_quota(self) && !ops.contains(&(Table::Records, Op::Update)) {
            ops.push((Table::Records, Op::Update));
        }
        for op in self.access {
            if !ops.contains(op) {
                ops.push(*op);
            }
        }
        ops
    }
}

/// The route path a concrete path is routed to: of those it matches, the one with the fewest parameters.
pub fn routed_path(path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.split('/').collect();
    let matches = |template: &str| {
        let parts: Vec<&str> = template.split('/').collect();
        parts.len() == segments.len()
            && parts.iter().zip(&segments).all(|(part, segment)| part.starts_with('{') || part == segment)
    };
    let parameters = |template: &str| template.matches('{').count();
    ROUTES.iter().filter(|r| matches(r.path)).map(|r| r.path).min_by_key(|p| parameters(p))
}

/// The methods served on a concrete path (for a 405's `Allow`).
pub fn methods_of(path: &str) -> Vec<&'static str> {
    let Some(routed) = routed_path(path) else { return Vec::new() };
    let mut methods: Vec<&'static str> = ROUTES.iter().filter(|r| r.path == routed).map(|r| r.method).collect();
    methods.sort_unstable();
    methods.dedup();
    methods
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({})", self.method, self.path, self.function)
    }
}

macro_rules! handler {
    ($f:path) => {
        |ctx, input| Box::pin($f(ctx, input))
    };
}

use Role::{Admin, Billing, FrontDesk, Joiner, Nurse, Operator, Patient, Practitioner};
use Table::{Audit, Records};

const PAGE: &[&str] = &["limit", "cursor"];
const ALL_STAFF: &[Role] = &[Admin, Practitioner, Nurse, FrontDesk, Billing];
const REGISTRARS: &[Role] = &[Admin, Practitioner, Nurse, FrontDesk];
/// A write that also answers idempotent retries: it reads the stored first response.
const IDEMPOTENT_WRITE: &[(Table, Op)] = &[(Records, Op::Put)];

/// One route that is not a chart entry route.
macro_rules! route {
    ($name:literal, $function:literal, $method:literal, $path:literal, $summary:literal,
     query: $query:expr, body: $body:expr, roles: $roles:expr, access: $access:expr, grants: $grants:expr,
     handler: $handler:path) => {
        Served {
            route: Route {
                name: $name,
                function: $function,
                method: $method,
                path: $path,
                summary: $summary,
                query: $query,
                body: $body,
                roles: $roles,
                access: $access,
                chart: None,
                grants: $grants,
            },
            handler: handler!($handler),
        }
    };
}

/// Reading the trail: the table's events, then the pointers to those retired into the archive.
const AUDIT_READ: &[(Table, Op)] = &[(Audit, Op::Query), (Records, Op::Query)];

/// The routes of clinics, staff, patients and the audit trail.
const ADMINISTRATION: &[Served] = &[
    route!("clinics.create", "clinics-create", "POST", "/v1/clinics",
        "Open a clinic with its first administrator",
        query: &[], body: Some("NewClinic"), roles: &[Operator], access: IDEMPOTENT_WRITE, grants: &[],
        handler: api::clinics::create),
    route!("clinic.read", "clinic-get", "GET", "/v1/clinic",
        "The caller's own clinic",
        query: &[], body: None, roles: ALL_STAFF, access: &[], grants: &[],
        handler: api::clinics::read),
    route!("clinic.update", "clinic-update", "PATCH", "/v1/clinic",
        "Change the clinic's name, contact or cancellation window (JSON merge patch)",
        query: &[], body: Some("ClinicPatch"), roles: &[Admin], access: &[(Records, Op::Put)], grants: &[],
        handler: api::clinics::update),
    route!("staff.create", "staff-create", "POST", "/v1/staff",
        "Invite a staff member with a role; the answer's code is shown once",
        query: &[], body: Some("NewStaff"), roles: &[Admin], access: IDEMPOTENT_WRITE, grants: &[],
        handler: api::staff::create),
    route!("staff.join", "staff-join", "POST", "/v1/staff/join",
        "Join a clinic's staff with an invitation's code",
        query: &[], body: Some("StaffJoin"), roles: &[Joiner],
        access: &[(Records, Op::Put), (Records, Op::Delete), (Records, Op::Query)], grants: &[],
        handler: api::staff::join),
    route!("staff.list", "staff-list", "GET", "/v1/staff",
        "List the clinic's staff",
        query: PAGE, body: None, roles: &[Admin], access: &[(Records, Op::Query)], grants: &[],
        handler: api::staff::list),
    route!("staff.update", "staff-update", "PATCH", "/v1/staff/{userId}",
        "Change a member's role, name or status",
        query: &[], body: Some("StaffChange"), roles: &[Admin],
        access: &[(Records, Op::Put), (Records, Op::Delete), (Records, Op::Query)], grants: &[],
        handler: api::staff::update),
    route!("patients.create", "patients-create", "POST", "/v1/patients",
        "Register a patient; Vellum assigns the record number",
        query: &[], body: Some("PatientDetails"), roles: REGISTRARS, access: &[(Records, Op::Put), (Records, Op::Update)], grants: &[],
        handler: api::patients::create),
    route!("patients.list", "patients-list", "GET", "/v1/patients",
        "Find patients by family-name prefix, birth date, phone or record number",
        query: &["familyName", "birthDate", "phone", "mrn", "limit", "cursor"], body: None, roles: ALL_STAFF, access: &[(Records, Op::Query)], grants: &[],
        handler: api::patients::list),
    route!("patients.read", "patients-get", "GET", "/v1/patients/{patientId}",
        "A patient's demographics",
        query: &[], body: None, roles: ALL_STAFF, access: &[], grants: &[],
        handler: api::patients::read),
    route!("patients.update", "patients-update", "PATCH", "/v1/patients/{patientId}",
        "Change a patient's demographics (JSON merge patch)",
        query: &[], body: Some("PatientPatch"), roles: REGISTRARS, access: &[(Records, Op::Put)], grants: &[],
        handler: api::patients::update),
    route!("patients.access-log", "patients-access-log", "GET", "/v1/patients/{patientId}/access-log",
        "Who touched this patient's record, when and how",
        query: &["from", "to", "limit", "cursor"], body: None, roles: &[Admin, Practitioner], access: AUDIT_READ,
        grants: &[Grant::ReadAuditArchive], handler: api::audit::access_log),
    route!("usage.read", "usage-read", "GET", "/v1/usage",
        "The clinic's usage ledger for a month: lines by unit with count, weight, price and amount, and daily counts",
        query: &["month"], body: None, roles: &[Admin, Billing], access: &[(Records, Op::Query)], grants: &[],
        handler: api::usage::read),
    route!("plan.read", "plan-get", "GET", "/v1/plan",
        "The clinic's plan: its prices, included units, monthly cap and burst quota",
        query: &[], body: None, roles: &[Admin, Billing], access: &[], grants: &[], handler: api::plans::read),
    route!("plan.save", "plan-put", "PUT", "/v1/operator/clinics/{clinicId}/plan",
        "Set a clinic's plan (operator; If-Match once it has one)",
        query: &[], body: Some("Plan"), roles: &[Operator], access: &[(Records, Op::Put)], grants: &[],
        handler: api::plans::save),
    route!("usage.csv", "usage-csv", "GET", "/v1/usage.csv",
        "The clinic's usage ledger for a month as CSV: a row per day and unit",
        query: &["month"], body: None, roles: &[Admin, Billing], access: &[(Records, Op::Query)], grants: &[],
        handler: api::usage::csv),
    route!("usage.operator", "usage-operator", "GET", "/v1/operator/usage",
        "Every clinic's usage totals for a month, by unit (operator)",
        query: &["month"], body: None, roles: &[Operator], access: &[(Records, Op::Query)], grants: &[],
        handler: api::usage::every_clinic),
    route!("audit.list", "audit-list", "GET", "/v1/audit",
        "Access events by patient, actor and time, newest first",
        query: &["patientId", "actor", "from", "to", "limit", "cursor"], body: None, roles: &[Admin], access: AUDIT_READ,
        grants: &[Grant::ReadAuditArchive], handler: api::audit::list),
    route!("audit.verify", "audit-verify", "GET", "/v1/operator/audit-verification",
        "Verify a clinic's archived audit chain, and that the archive and the table hold the same events in a window",
        query: &["clinicId", "from", "to"], body: None, roles: &[Operator], access: &[(Audit, Op::Query)],
        grants: &[Grant::ReadAuditArchive], handler: api::audit::verify),
];

/// Break-glass: a clinician opens, for a while and with a reason, what their role would not show;
/// administrators review each one.
const BREAK_GLASS: &[Served] = &[
    route!("break-glass.open", "break-glass-open", "POST", "/v1/patients/{patientId}/break-glass",
        "Open one part of a patient's record that your role (or a photo's consent) would not show, with a reason, for up to 4 hours",
        query: &[], body: Some("BreakGlassRequest"), roles: BREAKERS, access: IDEMPOTENT_WRITE, grants: &[],
        handler: api::break_glass::open),
    route!("break-glass.list", "break-glass-list", "GET", "/v1/break-glass",
        "The review queue of break-glass, newest first",
        query: &["status", "limit", "cursor"], body: None, roles: &[Admin], access: &[(Records, Op::Query)], grants: &[],
        handler: api::break_glass::list),
    route!("break-glass.review", "break-glass-review", "POST", "/v1/break-glass/{breakGlassId}/review",
        "Mark a break-glass reviewed, with a note (by an administrator other than the one who opened it)",
        query: &[], body: Some("BreakGlassReview"), roles: &[Admin], access: &[(Records, Op::Put), (Records, Op::Delete)],
        grants: &[], handler: api::break_glass::review),
];

/// What the FHIR face reads: the records, and the trail (a patient's access log as AuditEvent).
const FHIR_READ: &[(Table, Op)] = &[(Records, Op::Query), (Audit, Op::Query)];

/// The FHIR R4 face over the records: what it serves, a resource, a type's search. Every staff role reaches
/// it; each type is read by the roles that read its records in the JSON API (checked by the handler).
const FHIR: &[Served] = &[
    route!("fhir.metadata", "fhir", "GET", "/fhir/R4/metadata",
        "The FHIR CapabilityStatement: the resource types, interactions and search parameters served",
        query: &[], body: None, roles: ALL_STAFF, access: &[], grants: &[], handler: api::fhir::metadata),
    route!("fhir.search", "fhir", "GET", "/fhir/R4/{resourceType}",
        "Search a FHIR resource type: a searchset bundle, newest first, paged by its next link",
        query: &["patient", "_id", "family", "birthdate", "identifier", "_lastUpdated", "_count", "_cursor"], body: None,
        roles: ALL_STAFF, access: FHIR_READ, grants: &[Grant::ReadAuditArchive], handler: api::fhir::search),
    route!("fhir.read", "fhir", "GET", "/fhir/R4/{resourceType}/{id}",
        "Read a FHIR resource",
        query: &[], body: None, roles: ALL_STAFF, access: FHIR_READ, grants: &[Grant::ReadAuditArchive],
        handler: api::fhir::read),
    route!("fhir.transaction", "fhir-transaction", "POST", "/fhir/R4",
        "Import a FHIR transaction bundle (Patient, AllergyIntolerance, MedicationStatement, Condition, vital-sign Observation): all of it or nothing; a transaction-response bundle",
        query: &[], body: Some("FhirTransactionBundle"), roles: CLINICIANS,
        access: &[(Records, Op::Put), (Records, Op::Update), (Records, Op::Query)], grants: &[],
        handler: api::fhir_import::transaction),
    route!("fhir.operation", "fhir", "GET", "/fhir/R4/Patient/{id}/{operation}",
        "Patient/{id}/$everything: the patient and every resource of the types the caller's role reads, paged",
        query: &["_count", "_cursor"], body: None, roles: ALL_STAFF, access: FHIR_READ, grants: &[Grant::ReadAuditArchive],
        handler: api::fhir::operation),
];

/// A patient's export of their whole record (GDPR Art. 15 and 20): those who see the whole record start it,
/// follow it and hand it over; a worker builds it (see `TRIGGERS`).
const EXPORTS: &[Served] = &[
    route!("exports.create", "patient-exports", "POST", "/v1/patients/{patientId}/exports",
        "Start an export of the patient's whole record: one ZIP (the record as FHIR and as the API shows it, a summary PDF, the photos, the signed consents, the access log), built in the background",
        query: &[], body: None, roles: &[Admin, Practitioner], access: &[(Records, Op::Put)], grants: &[],
        handler: api::exports::create),
    route!("exports.read", "patient-exports", "GET", "/v1/patients/{patientId}/exports/{exportId}",
        "Where an export stands: its progress, and once ready what its ZIP holds and when it is deleted",
        query: &[], body: None, roles: &[Admin, Practitioner], access: &[], grants: &[], handler: api::exports::read),
    route!("exports.download", "patient-exports", "GET", "/v1/patients/{patientId}/exports/{exportId}/download",
        "A link to the export's ZIP that works for five minutes; each link given is in the patient's access log",
        query: &[], body: None, roles: &[Admin, Practitioner], access: &[], grants: &[Grant::PresignExports],
        handler: api::exports::download),
];

/// A patient's requests to erase or restrict their record (GDPR Art. 17 and 18): staff who take them record
/// them; administrators decide, lift a restriction and complete an erasure kept for its retention period.
const ERASURE_REQUESTS: &[Served] = &[
    route!("erasure-requests.create", "erasure-requests", "POST", "/v1/patients/{patientId}/erasure-requests",
        "Record a patient's request to erase (Art. 17) or restrict (Art. 18) their record; the answer is due within a month",
        query: &[], body: Some("NewErasureRequest"), roles: &[Admin, Practitioner, FrontDesk], access: &[(Records, Op::Put)],
        grants: &[], handler: api::erasure::create),
    route!("erasure-requests.list", "erasure-requests", "GET", "/v1/patients/{patientId}/erasure-requests",
        "A patient's requests to erase or restrict their record, oldest first",
        query: &["limit", "cursor"], body: None, roles: &[Admin, Practitioner, FrontDesk], access: QUERY, grants: &[],
        handler: api::erasure::list),
    route!("erasure-requests.read", "erasure-requests", "GET", "/v1/patients/{patientId}/erasure-requests/{requestId}",
        "A request: its decision, and what an erasure erased and kept (and why)",
        query: &[], body: None, roles: &[Admin, Practitioner, FrontDesk], access: &[], grants: &[],
        handler: api::erasure::read),
    route!("erasure-requests.decide", "erasure-requests", "POST", "/v1/patients/{patientId}/erasure-requests/{requestId}/decision",
        "Grant or refuse a request, with the reason. A granted restriction closes the record to all but administrators; a granted erasure destroys the photos' keys, and erases the record if its retention period has passed (else keeps it restricted until then)",
        query: &[], body: Some("ErasureDecision"), roles: &[Admin], access: ERASURE_WRITES, grants: ERASURE_GRANTS,
        handler: api::erasure::decide),
    route!("erasure-requests.complete", "erasure-requests", "POST", "/v1/patients/{patientId}/erasure-requests/{requestId}/complete",
        "Erase a record that was kept for its retention period, once the period has passed; or finish an erasure that stopped midway",
        query: &[], body: None, roles: &[Admin], access: ERASURE_WRITES, grants: ERASURE_GRANTS,
        handler: api::erasure::complete),
    route!("erasure-requests.lift", "erasure-requests", "POST", "/v1/patients/{patientId}/erasure-requests/{requestId}/lift",
        "Lift a restriction, with the reason (tell the patient first, Art. 18(3))",
        query: &[], body: Some("Erasure"), roles: &[Admin], access: &[(Records, Op::Put)], grants: &[],
        handler: api::erasure::lift),
    route!("erasure-requests.awaiting", "erasure-requests-awaiting", "GET", "/v1/erasure-requests",
        "The clinic's requests awaiting its action, soonest due first: open ones by the day their answer is due, kept erasures by the day their record may be erased",
        query: &["limit", "cursor"], body: None, roles: &[Admin], access: QUERY, grants: &[],
        handler: api::erasure::awaiting),
];

/// An erasure reads the whole record and the patient's appointments, and deletes what it erases.
const ERASURE_WRITES: &[(Table, Op)] = &[(Records, Op::Put), (Records, Op::Query), (Records, Op::Delete)];
/// An erasure deletes the photos' objects and the exports' ZIPs.
const ERASURE_GRANTS: &[Grant] = &[Grant::DeletePhotos, Grant::WriteExports];

/// The calendar's catalogue: rooms and devices, and services. Administrators write; all staff read.
const CALENDAR: &[Served] = &[
    route!("resources.create", "resources-create", "POST", "/v1/resources",
        "Add a room or device that services need",
        query: &[], body: Some("ResourceDetails"), roles: &[Admin], access: IDEMPOTENT_WRITE, grants: &[],
        handler: api::catalogue::create_resource),
    route!("resources.list", "resources-list", "GET", "/v1/resources",
        "The clinic's rooms and devices",
        query: &["status", "limit", "cursor"], body: None, roles: ALL_STAFF, access: QUERY, grants: &[],
        handler: api::catalogue::list_resources),
    route!("resources.update", "resources-update", "PATCH", "/v1/resources/{resourceId}",
        "Rename or retire a room or device (JSON merge patch)",
        query: &[], body: Some("ResourcePatch"), roles: &[Admin], access: &[(Records, Op::Put)], grants: &[],
        handler: api::catalogue::update_resource),
    route!("services.create", "services-create", "POST", "/v1/services",
        "Add a service: duration, buffers, performers, rooms and devices, forms, online booking, price",
        query: &[], body: Some("ServiceDetails"), roles: &[Admin], access: &[(Records, Op::Put), (Records, Op::Query)],
        grants: &[], handler: api::catalogue::create_service),
    route!("services.list", "services-list", "GET", "/v1/services",
        "The clinic's services",
        query: &["status", "limit", "cursor"], body: None, roles: ALL_STAFF, access: QUERY, grants: &[],
        handler: api::catalogue::list_services),
    route!("services.read", "services-get", "GET", "/v1/services/{serviceId}",
        "One service",
        query: &[], body: None, roles: ALL_STAFF, access: &[], grants: &[],
        handler: api::catalogue::read_service),
    route!("services.update", "services-update", "PATCH", "/v1/services/{serviceId}",
        "Change or retire a service (JSON merge patch)",
        query: &[], body: Some("ServicePatch"), roles: &[Admin], access: &[(Records, Op::Put), (Records, Op::Query)],
        grants: &[], handler: api::catalogue::update_service),
    route!("clinic.hours.read", "clinic-hours-get", "GET", "/v1/clinic/working-hours",
        "The clinic's opening hours: weekly spans and dated overrides (closed days)",
        query: &[], body: None, roles: ALL_STAFF, access: &[], grants: &[], handler: api::hours::read),
    route!("clinic.hours.save", "clinic-hours-put", "PUT", "/v1/clinic/working-hours",
        "Set the clinic's opening hours (If-Match once set)",
        query: &[], body: Some("WorkingHours"), roles: &[Admin], access: &[(Records, Op::Put)], grants: &[],
        handler: api::hours::save),
    route!("staff.hours.read", "staff-hours-get", "GET", "/v1/staff/{userId}/working-hours",
        "A staff member's working hours",
        query: &[], body: None, roles: ALL_STAFF, access: &[], grants: &[], handler: api::hours::read),
    route!("staff.hours.save", "staff-hours-put", "PUT", "/v1/staff/{userId}/working-hours",
        "Set a staff member's working hours: weekly spans (a break is a gap), days off and extra hours (If-Match once set)",
        query: &[], body: Some("WorkingHours"), roles: &[Admin], access: &[(Records, Op::Put)], grants: &[],
        handler: api::hours::save),
    route!("resources.hours.read", "resources-hours-get", "GET", "/v1/resources/{resourceId}/working-hours",
        "A room's or device's hours",
        query: &[], body: None, roles: ALL_STAFF, access: &[], grants: &[], handler: api::hours::read),
    route!("resources.hours.save", "resources-hours-put", "PUT", "/v1/resources/{resourceId}/working-hours",
        "Set a room's or device's hours (If-Match once set)",
        query: &[], body: Some("WorkingHours"), roles: &[Admin], access: &[(Records, Op::Put)], grants: &[],
        handler: api::hours::save),
    route!("availability.read", "availability", "GET", "/v1/availability",
        "When a service can start, and with whom, over at most 31 local dates",
        query: &["serviceId", "from", "to", "staffId"], body: None, roles: ALL_STAFF, access: QUERY, grants: &[],
        handler: api::availability::availability),
    route!("appointments.book", "appointments-create", "POST", "/v1/appointments",
        "Book a service for a patient: the performer's and every room's and device's time is claimed in the same transaction",
        query: &[], body: Some("Booking"), roles: REGISTRARS, access: &[(Records, Op::Put), (Records, Op::Query)],
        grants: &[], handler: api::appointments::book),
    route!("appointments.list", "appointments-list", "GET", "/v1/appointments",
        "The clinic's or one performer's appointments by start, within local dates",
        query: &["from", "to", "staffId", "limit", "cursor"], body: None, roles: ALL_STAFF, access: QUERY, grants: &[],
        handler: api::appointments::list),
    route!("appointments.read", "appointments-get", "GET", "/v1/appointments/{appointmentId}",
        "One appointment",
        query: &[], body: None, roles: ALL_STAFF, access: &[], grants: &[], handler: api::appointments::read),
    route!("appointments.cancel", "appointments-cancel", "POST", "/v1/appointments/{appointmentId}/cancel",
        "Cancel an appointment with a reason (late within the clinic's cancellation window); its time is released",
        query: &[], body: Some("Cancellation"), roles: REGISTRARS, access: &[(Records, Op::Put), (Records, Op::Query)],
        grants: &[], handler: api::appointments::cancel),
    route!("appointments.reschedule", "appointments-reschedule", "POST", "/v1/appointments/{appointmentId}/reschedule",
        "Move an appointment to another start (and performer): the new time claimed, the old released, the move kept",
        query: &[], body: Some("Reschedule"), roles: REGISTRARS, access: &[(Records, Op::Put), (Records, Op::Query)],
        grants: &[], handler: api::appointments::reschedule),
    route!("appointments.status", "appointments-status", "POST", "/v1/appointments/{appointmentId}/status",
        "One step of the status walk: confirmed, arrived, in-treatment, completed (with its treatments) or no-show",
        query: &[], body: Some("StatusStep"), roles: REGISTRARS, access: &[(Records, Op::Put)],
        grants: &[], handler: api::appointments::status),
    route!("patients.appointments", "patients-appointments", "GET", "/v1/patients/{patientId}/appointments",
        "A patient's appointments by start",
        query: &["from", "to", "limit", "cursor"], body: None, roles: ALL_STAFF, access: QUERY, grants: &[],
        handler: api::appointments::of_patient),
    route!("calendar-feed.create", "calendar-feed-create", "POST", "/v1/staff/{userId}/calendar-feed",
        "Your own secret iCalendar URL (shown once; the previous one stops working)",
        query: &[], body: None, roles: ALL_STAFF, access: &[(Records, Op::Put), (Records, Op::Delete)], grants: &[],
        handler: api::feeds::create),
    route!("calendar-feed.revoke", "calendar-feed-revoke", "POST", "/v1/staff/{userId}/calendar-feed/revoke",
        "Revoke a calendar feed (your own, or as an administrator anyone's): its URL stops at once",
        query: &[], body: None, roles: ALL_STAFF, access: &[(Records, Op::Delete)], grants: &[],
        handler: api::feeds::revoke),
    route!("calendar-feed.read", "calendar-feed-get", "GET", "/feeds/{token}",
        "A staff member's appointments as iCalendar, for calendar apps: service and initials, no names",
        query: &[], body: None, roles: &[Patient], access: &[LINK_LIMIT, (Records, Op::Query)], grants: &[],
        handler: api::feeds::read),
    // Online booking, for patients without an account: one function serves the page and its routes.
    route!("booking.page", "booking", "GET", "/book/{clinicSlug}",
        "A clinic's booking page (no login)",
        query: &[], body: None, roles: &[Patient], access: &[LINK_LIMIT], grants: &[], handler: api::booking::page),
    route!("booking.confirm-page", "booking", "GET", "/book/confirm/{token}",
        "The page the confirmation link opens (it confirms the hold)",
        query: &[], body: None, roles: &[Patient], access: &[LINK_LIMIT], grants: &[], handler: api::booking::page),
    route!("booking.offer", "booking", "GET", "/v1/booking/{clinicSlug}",
        "The clinic's name, time zone and the services patients may book online",
        query: &[], body: None, roles: &[Patient], access: &[LINK_LIMIT, (Records, Op::Query)], grants: &[],
        handler: api::booking::offer),
    route!("booking.availability", "booking", "GET", "/v1/booking/{clinicSlug}/availability",
        "Free starts of an online service over at most 14 local dates (no names)",
        query: &["serviceId", "from", "to"], body: None, roles: &[Patient], access: &[LINK_LIMIT, (Records, Op::Query)],
        grants: &[], handler: api::booking::availability),
    route!("booking.hold", "booking", "POST", "/v1/booking/{clinicSlug}/holds",
        "Hold a time for 15 minutes and text the phone given a link that confirms it",
        query: &[], body: Some("BookingHold"), roles: &[Patient], access: &[LINK_LIMIT, (Records, Op::Query), (Records, Op::Put)],
        grants: &[], handler: api::booking::hold),
    route!("booking.confirm", "booking", "POST", "/v1/booking/confirmations/{token}",
        "Confirm a held time from its link: an appointment of the matching or a new patient",
        query: &[], body: None, roles: &[Patient], access: &[LINK_LIMIT, (Records, Op::Query), (Records, Op::Put)],
        grants: &[], handler: api::booking::confirm),
];

/// Who reads allergies: everyone who may stand between a patient and a needle, and the front desk.
const ALLERGY_READERS: &[Role] = &[Admin, Practitioner, Nurse, FrontDesk];
/// Who reads codes and treatments (billing and lot recalls need them), but no clinical notes.
const CODE_READERS: &[Role] = &[Admin, Practitioner, Nurse, Billing];
/// Who sees and writes the whole chart.
const CLINICIANS: &[Role] = &[Practitioner, Nurse];

const ENTRY_CREATE: &[(Table, Op)] = &[(Records, Op::Put), (Records, Op::Query)];
const ENTRY_UPDATE: &[(Table, Op)] = &[(Records, Op::Put), (Records, Op::Query), (Records, Op::Delete)];
const ENTRY_INVALIDATE: &[(Table, Op)] = &[(Records, Op::Put), (Records, Op::Delete)];
const QUERY: &[(Table, Op)] = &[(Records, Op::Query)];

/// The six routes of one kind of chart entry: create, list, read, change, entered-in-error, history.
/// Each is served by the function of its operation, whatever the kind, so a function's role is the same
/// for every kind and the stack stays far below CloudFormation's resource limit.
macro_rules! chart_routes {
    ($kind:expr, $segment:literal, $noun:literal, $schema:literal, read: $read:expr, write: $write:expr) => {
        [
            Served {
                route: Route {
                    name: concat!($segment, ".create"),
                    function: "chart-entry-create",
                    method: "POST",
                    path: concat!("/v1/patients/{patientId}/", $segment),
                    summary: concat!("Record one ", $noun, " entry"),
                    query: &[],
                    body: Some($schema),
                    roles: $write,
                    access: ENTRY_CREATE,
                    chart: Some($kind),
                    grants: &[],
                },
                handler: handler!(api::chart::create),
            },
            Served {
                route: Route {
                    name: concat!($segment, ".list"),
                    function: "chart-entry-list",
                    method: "GET",
                    path: concat!("/v1/patients/{patientId}/", $segment),
                    summary: concat!("The patient's ", $noun, " entries, newest first"),
                    query: &["includeEnteredInError", "limit", "cursor"],
                    body: None,
                    roles: $read,
                    access: QUERY,
                    chart: Some($kind),
                    grants: &[],
                },
                handler: handler!(api::chart::list),
            },
            Served {
                route: Route {
                    name: concat!($segment, ".read"),
                    function: "chart-entry-get",
                    method: "GET",
                    path: concat!("/v1/patients/{patientId}/", $segment, "/{entryId}"),
                    summary: concat!("The current version of one ", $noun, " entry"),
                    query: &[],
                    body: None,
                    roles: $read,
                    access: &[],
                    chart: Some($kind),
                    grants: &[],
                },
                handler: handler!(api::chart::read),
            },
            Served {
                route: Route {
                    name: concat!($segment, ".update"),
                    function: "chart-entry-update",
                    method: "PATCH",
                    path: concat!("/v1/patients/{patientId}/", $segment, "/{entryId}"),
                    summary: concat!(
                        "Change one ",
                        $noun,
                        " entry (JSON merge patch): a new version, the old one kept"
                    ),
                    query: &[],
                    body: Some(concat!($schema, "Patch")),
                    roles: $write,
                    access: ENTRY_UPDATE,
                    chart: Some($kind),
                    grants: &[],
                },
                handler: handler!(api::chart::update),
            },
            Served {
                route: Route {
                    name: concat!($segment, ".entered-in-error"),
                    function: "chart-entry-invalidate",
                    method: "POST",
                    path: concat!("/v1/patients/{patientId}/", $segment, "/{entryId}/entered-in-error"),
                    summary: concat!(
                        "Mark one ",
                        $noun,
                        " entry entered-in-error, with a reason; it stays in the history"
                    ),
                    query: &[],
                    body: Some("EnteredInError"),
                    roles: $write,
                    access: ENTRY_INVALIDATE,
                    chart: Some($kind),
                    grants: &[],
                },
                handler: handler!(api::chart::invalidate),
            },
            Served {
                route: Route {
                    name: concat!($segment, ".history"),
                    function: "chart-entry-history",
                    method: "GET",
                    path: concat!("/v1/patients/{patientId}/", $segment, "/{entryId}/history"),
                    summary: concat!("Every version of one ", $noun, " entry, oldest first"),
                    query: PAGE,
                    body: None,
                    roles: $read,
                    access: QUERY,
                    chart: Some($kind),
                    grants: &[],
                },
                handler: handler!(api::chart::history),
            },
        ]
    };
}

/// The chart's entry routes, kind by kind: the role table of the chart.
const CHART_ENTRIES: [[Served; 6]; 7] = [
    chart_routes!(ChartKind::Allergy, "allergies", "allergy", "Allergy", read: ALLERGY_READERS, write: CLINICIANS),
    chart_routes!(ChartKind::Medication, "medications", "medication", "Medication", read: CLINICIANS, write: CLINICIANS),
    chart_routes!(ChartKind::Condition, "conditions", "condition", "Condition", read: CODE_READERS, write: CLINICIANS),
    chart_routes!(ChartKind::Vitals, "vitals", "vital signs", "Vitals", read: CLINICIANS, write: CLINICIANS),
    chart_routes!(ChartKind::Note, "notes", "clinical note", "Note", read: CLINICIANS, write: CLINICIANS),
    chart_routes!(ChartKind::Treatment, "treatments", "treatment", "Treatment", read: CODE_READERS, write: CLINICIANS),
    chart_routes!(
        ChartKind::AestheticProfile,
        "aesthetic-profile",
        "aesthetic profile",
        "AestheticProfile",
        read: CLINICIANS,
        write: CLINICIANS
    ),
];

/// Who adds products to the clinic's safety catalogue: what a product contains is a clinical fact.
const PRODUCT_KEEPERS: &[Role] = &[Admin, Practitioner];

/// The chart's other routes: the summary, signing notes, safety checks and the clinic's products, and lot
/// recall.
const CHART_VIEWS: &[Served] = &[
    route!("chart.read", "chart-summary", "GET", "/v1/patients/{patientId}/chart",
        "The chart summary: allergies, current medications, active conditions, latest vitals, recent notes and treatments, profile, and the standing safety alerts (the sections the caller's role may read)",
        query: &[], body: None, roles: ALL_STAFF, access: QUERY, grants: &[],
        handler: api::chart::summary),
    Served {
        route: Route {
            name: "notes.sign",
            function: "chart-note-sign",
            method: "POST",
            path: "/v1/patients/{patientId}/notes/{entryId}/sign",
            summary: "Sign a draft note (its author only); a signed note never changes",
            query: &[],
            body: None,
            roles: CLINICIANS,
            access: &[(Records, Op::Put)],
            chart: Some(ChartKind::Note),
            grants: &[],
        },
        handler: handler!(api::chart::sign),
    },
    route!("safety.check", "safety-check", "POST", "/v1/patients/{patientId}/safety-checks",
        "Check a proposed treatment or medication against the patient's chart: the alerts, worst first, with the chart facts that raised them and their sources (nothing is written but the audit event)",
        query: &[], body: Some("SafetyCheck"), roles: CLINICIANS, access: QUERY, grants: &[],
        handler: api::safety::check),
    route!("safety.overrides", "safety-overrides", "GET", "/v1/overrides",
        "The blocking safety alerts the clinic's clinicians acknowledged to go ahead, newest first: the rule, the reason, who and when, and the treatment or medication it let through",
        query: PAGE, body: None, roles: &[Admin], access: QUERY, grants: &[],
        handler: api::safety::overrides),
    route!("safety-products.create", "safety-products", "POST", "/v1/safety-products",
        "Add a product the shipped safety catalogue lacks, with the classes of what it contains, so that the rules see it",
        query: &[], body: Some("SafetyProduct"), roles: PRODUCT_KEEPERS, access: &[(Records, Op::Put), (Records, Op::Query)], grants: &[],
        handler: api::catalogue::create_product),
    route!("safety-products.list", "safety-products", "GET", "/v1/safety-products",
        "The products the clinic added to the safety catalogue (the shipped ones are in this document, by treatment type)",
        query: &["status", "limit", "cursor"], body: None, roles: &[Admin, Practitioner, Nurse], access: QUERY, grants: &[],
        handler: api::catalogue::list_products),
    route!("safety-products.update", "safety-products", "PATCH", "/v1/safety-products/{productId}",
        "Correct or retire a product the clinic added (JSON merge patch)",
        query: &[], body: Some("SafetyProductPatch"), roles: PRODUCT_KEEPERS, access: &[(Records, Op::Put), (Records, Op::Query)], grants: &[],
        handler: api::catalogue::update_product),
    route!("lots.recall", "lot-recall", "GET", "/v1/lot-recall",
        "Every patient of the clinic who received a product lot, with the date and practitioner",
        query: &["lotNumber", "product", "manufacturer", "limit", "cursor"], body: None, roles: &[Admin, Practitioner, Nurse], access: QUERY, grants: &[],
        handler: api::recall::recall),
];

/// Who erases photos: an irreversible act, for the clinic's administrator and its practitioners.
const ERASERS: &[Role] = &[Admin, Practitioner];

/// Before/after photos: upload, processing (a trigger, below), views, consent and erasure.
const PHOTOS: &[Served] = &[
    route!("photos.create", "photos-create", "POST", "/v1/patients/{patientId}/photos",
        "Ask to upload a photo: a pending photo and a short-lived upload URL bound to its type and size",
        query: &[], body: Some("PhotoRequest"), roles: CLINICIANS, access: &[(Records, Op::Put)], grants: &[Grant::PresignQuarantine],
        handler: api::photos::create),
    route!("photos.list", "photos-list", "GET", "/v1/patients/{patientId}/photos",
        "The patient's photos, newest first, by body area, view, treatment and capture date",
        query: &["bodyArea", "view", "treatmentId", "capturedFrom", "capturedTo", "limit", "cursor"], body: None, roles: CLINICIANS, access: QUERY, grants: &[],
        handler: api::photos::list),
    route!("photos.sets", "photos-sets", "GET", "/v1/patients/{patientId}/photo-sets",
        "Before/after sets per treatment, view by view, for side-by-side comparison",
        query: &["treatmentId"], body: None, roles: CLINICIANS, access: QUERY, grants: &[],
        handler: api::photos::sets),
    route!("photos.view", "photos-get", "GET", "/v1/patients/{patientId}/photos/{photoId}",
        "The decrypted image (JPEG, no metadata) for a purpose its consent covers",
        query: &["rendition", "purpose"], body: None, roles: CLINICIANS, access: &[], grants: &[Grant::ReadPhotos, Grant::DecryptDataKey],
        handler: api::photos::view),
    route!("photos.consent", "photos-consent", "POST", "/v1/patients/{patientId}/photos/{photoId}/consent",
        "Record the patient's consent for a photo: clinical record only, internal education, or marketing",
        query: &[], body: Some("PhotoConsent"), roles: &[Admin, Practitioner, Nurse], access: &[(Records, Op::Put)], grants: &[],
        handler: api::photos::consent),
    route!("photos.erase", "photos-erase", "POST", "/v1/patients/{patientId}/photos/{photoId}/erase",
        "Erase a photo: its keys are destroyed, so every stored copy is unreadable at once",
        query: &[], body: Some("Erasure"), roles: ERASERS, access: &[(Records, Op::Put)], grants: &[Grant::DeletePhotos],
        handler: api::photos::erase),
    route!("photos.erase-all", "photos-erase-all", "POST", "/v1/patients/{patientId}/photos/erase",
        "Erase every photo of a patient (up to 40 a call; repeat while `remaining` is above 0)",
        query: &[], body: Some("Erasure"), roles: ERASERS, access: &[(Records, Op::Put), (Records, Op::Query)], grants: &[Grant::DeletePhotos],
        handler: api::photos::erase_all),
];

/// What every route of a patient's link does besides its own work: count the request against its address.
const LINK_LIMIT: (Table, Op) = (Records, Op::Update);
/// Who designs forms.
const FORM_AUTHORS: &[Role] = &[Admin, Practitioner];
/// Who reviews what patients sent.
/// Who reads signed consents (no clinical answers, so administrators too). The answers themselves hold
/// medications and history, which only clinicians read in the chart: the submission routes follow that.
const REVIEWERS: &[Role] = &[Admin, Practitioner, Nurse];

/// Pre-visit forms: templates, invitations, the patient's link, and the review.
const FORMS: &[Served] = &[
    route!("forms.templates.list", "forms-templates-list", "GET", "/v1/form-templates",
        "The clinic's form templates (latest versions) and the built-in ones it can copy",
        query: &[], body: None, roles: REGISTRARS, access: QUERY, grants: &[], handler: api::forms::list),
    route!("forms.templates.read", "forms-templates-get", "GET", "/v1/form-templates/{templateId}",
        "A form template, its latest version or the one named",
        query: &["version"], body: None, roles: REGISTRARS, access: QUERY, grants: &[], handler: api::forms::read),
    route!("forms.templates.save", "forms-templates-put", "PUT", "/v1/form-templates/{templateId}",
        "Create a form template (written, or copied from a built-in one) or save a new version of it",
        query: &[], body: Some("FormTemplate"), roles: FORM_AUTHORS, access: &[(Records, Op::Put), (Records, Op::Query)],
        grants: &[], handler: api::forms::save),
    route!("invitations.create", "invitations-create", "POST", "/v1/invitations",
        "Invite a patient (existing, or new by name and contact) to fill in forms from a link",
        query: &[], body: Some("NewInvitation"), roles: REGISTRARS,
        access: &[(Records, Op::Put), (Records, Op::Query), (Records, Op::Update)], grants: &[],
        handler: api::invitations::create),
    route!("invitations.list", "invitations-list", "GET", "/v1/patients/{patientId}/invitations",
        "A patient's invitations and where each stands",
        query: &[], body: None, roles: REGISTRARS, access: QUERY, grants: &[], handler: api::invitations::list),
    route!("invitations.revoke", "invitations-revoke", "POST", "/v1/patients/{patientId}/invitations/{invitationId}/revoke",
        "Revoke an invitation: its link stops working at once",
        query: &[], body: None, roles: REGISTRARS, access: &[(Records, Op::Put)], grants: &[],
        handler: api::invitations::revoke),
    route!("intake.page", "intake-page", "GET", "/intake/{token}",
        "The page a patient opens from the link (no login)",
        query: &[], body: None, roles: &[Patient], access: &[LINK_LIMIT], grants: &[], handler: api::intake::page),
    route!("intake.read", "intake-get", "GET", "/v1/intake/{token}",
        "What the link's forms need: the clinic's name, the patient's first name, the forms, the draft",
        query: &[], body: None, roles: &[Patient], access: &[LINK_LIMIT], grants: &[], handler: api::intake::read),
    route!("intake.draft", "intake-draft", "PUT", "/v1/intake/{token}/draft",
        "Save the answers so far (as often as the page likes)",
        query: &[], body: Some("IntakeAnswers"), roles: &[Patient], access: &[LINK_LIMIT, (Records, Op::Put), (Records, Op::Delete)],
        grants: &[], handler: api::intake::save_draft),
    route!("intake.photo", "intake-photo", "POST", "/v1/intake/{token}/photos",
        "Ask to upload a photo for the clinical record",
        query: &[], body: Some("IntakePhoto"), roles: &[Patient], access: &[LINK_LIMIT, (Records, Op::Put)],
        grants: &[Grant::PresignQuarantine], handler: api::intake::request_photo),
    route!("intake.submit", "intake-submit", "POST", "/v1/intake/{token}/submit",
        "Send the forms: every required answer present and valid, consents signed; the link is used up",
        query: &[], body: Some("IntakeAnswers"), roles: &[Patient], access: &[LINK_LIMIT, (Records, Op::Put), (Records, Op::Delete)],
        grants: &[], handler: api::intake::submit),
    route!("submissions.list", "submissions-list", "GET", "/v1/patients/{patientId}/submissions",
        "What the patient sent through links, newest first",
        query: &[], body: None, roles: CLINICIANS, access: QUERY, grants: &[], handler: api::submissions::list),
    route!("submissions.read", "submissions-get", "GET", "/v1/patients/{patientId}/submissions/{submissionId}",
        "One submission: the answers by form and version, and the signatures",
        query: &[], body: None, roles: CLINICIANS, access: &[], grants: &[], handler: api::submissions::read),
    route!("submissions.consent", "submissions-consent", "GET",
        "/v1/patients/{patientId}/submissions/{submissionId}/consents/{templateId}",
        "A signed consent as a PDF to print or send",
        query: &[], body: None, roles: REVIEWERS, access: &[], grants: &[], handler: api::submissions::consent),
    route!("submissions.accept", "submissions-accept", "POST", "/v1/patients/{patientId}/submissions/{submissionId}/accept",
        "Accept answered allergies and medications into the chart, as patient-entered entries",
        query: &[], body: Some("Acceptance"), roles: CLINICIANS, access: &[(Records, Op::Put), (Records, Op::Query)],
        grants: &[], handler: api::submissions::accept),
];

/// Every route Vellum serves.
/// The table, group by group.
const TABLE: &[&[Served]] = &[
    ADMINISTRATION,
    &CHART_ENTRIES[0],
    &CHART_ENTRIES[1],
    &CHART_ENTRIES[2],
    &CHART_ENTRIES[3],
    &CHART_ENTRIES[4],
    &CHART_ENTRIES[5],
    &CHART_ENTRIES[6],
    CHART_VIEWS,
    PHOTOS,
    FORMS,
    BREAK_GLASS,
    CALENDAR,
    FHIR,
    EXPORTS,
    ERASURE_REQUESTS,
];

/// How many routes the table holds.
pub const ROUTE_COUNT: usize = count_served_by(None);

/// Every route Vellum serves, with its code: the local server's. A function takes only its own
/// ([`served_by`]), so that only its own handlers are linked into it.
pub static SERVED: [Served; ROUTE_COUNT] = served_by(None);

/// Every route Vellum serves (what it is, without its code): for the template, the OpenAPI document, the price
/// table and the meter, which any function may read without carrying every handler.
pub static ROUTES: [Route; ROUTE_COUNT] = {
    let mut routes = [SERVED_FIRST.route; ROUTE_COUNT];
    let served: [Served; ROUTE_COUNT] = served_by(None);
    let mut i = 0;
    while i < ROUTE_COUNT {
        routes[i] = served[i].route;
        i += 1;
    }
    routes
};

/// What the compile-time builders fill their arrays with before they set every slot.
const SERVED_FIRST: Served = TABLE[0][0];

/// Whether two names are the same, at compile time.
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether `served` belongs to `function` (every route when `None`).
const fn belongs(served: &Served, function: Option<&str>) -> bool {
    match function {
        Some(function) => same(served.route.function, function),
        None => true,
    }
}

/// How many routes `function` serves (every route when `None`), at compile time.
pub const fn count_served_by(function: Option<&str>) -> usize {
    let mut count = 0;
    let mut group = 0;
    while group < TABLE.len() {
        let mut i = 0;
        while i < TABLE[group].len() {
            if belongs(&TABLE[group][i], function) {
                count += 1;
            }
            i += 1;
        }
        group += 1;
    }
    count
}

/// The routes `function` serves with their code (every route when `None`), in table order, at compile time:
/// a function's binary names its own with this, and only their handlers are linked into it.
pub const fn served_by<const N: usize>(function: Option<&str>) -> [Served; N] {
    assert!(count_served_by(function) == N, "N must be the count of the function's routes");
    let mut served = [SERVED_FIRST; N];
    let (mut n, mut group) = (0, 0);
    while group < TABLE.len() {
        let mut i = 0;
        while i < TABLE[group].len() {
            if belongs(&TABLE[group][i], function) {
                served[n] = TABLE[group][i];
                n += 1;
            }
            i += 1;
        }
        group += 1;
    }
    served
}

/// What a function is given beside its tables, as its routes' grants ask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capability {
    /// The photo bucket and the data keys.
    Photos,
    /// The audit archive's bucket.
    Archive,
}

/// Whether any of `served` needs `capability`, at compile time.
pub const fn needs(served: &[Served], capability: Capability) -> bool {
    let mut i = 0;
    while i < served.len() {
        let grants = served[i].route.grants;
        let mut g = 0;
        while g < grants.len() {
            let needed = match capability {
                Capability::Photos => grants[g].is_photos(),
                Capability::Archive => grants[g].is_archive(),
            };
            if needed {
                return true;
            }
            g += 1;
        }
        i += 1;
    }
    false
}

/// What a function that serves several routes does, for its description.
pub static FUNCTION_SUMMARIES: &[(&str, &str)] = &[
    ("chart-entry-create", "Records a chart entry of any kind"),
    ("chart-entry-list", "Lists a patient's chart entries of one kind"),
    ("chart-entry-get", "Reads one chart entry"),
    ("chart-entry-update", "Changes a chart entry: a new version"),
    ("chart-entry-invalidate", "Marks a chart entry entered-in-error"),
    ("chart-entry-history", "Lists every version of a chart entry"),
    ("booking", "Online booking for patients: the booking page, what it offers, free times, holds and confirmations"),
    ("safety-products", "The products a clinic adds to the safety catalogue: add, list, correct or retire"),
    ("fhir", "The FHIR R4 face over the records: capability, read and search"),
    ("patient-exports", "A patient's exports: start one, follow it, and hand over its ZIP through a short-lived link"),
    ("erasure-requests", "A patient's requests to erase or restrict their record: record, decide, lift, complete"),
];

/// A function invoked by an AWS event rather than an API route.
#[derive(Debug)]
pub struct Trigger {
    pub function: &'static str,
    pub summary: &'static str,
    /// What it does to which table.
    pub access: &'static [(Table, Op)],
    /// What invokes it.
    pub invocation: Invocation,
    /// What it does to the photo bucket and with the data key.
    pub grants: &'static [Grant],
}

/// What invokes an event-driven function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invocation {
    /// Cognito, waiting for the answer.
    Synchronous,
    /// The photo bucket's upload events, asynchronously (so it gets a dead-letter queue).
    Upload,
    /// An EventBridge schedule (a `rate(...)` or `cron(...)` expression), asynchronously.
    Schedule(&'static str),
    /// The audit table's stream, polled in order; a batch that keeps failing goes to the dead-letter queue.
    AuditStream,
}

impl Invocation {
    /// Whether AWS invokes it asynchronously (and so retries it and gives up into a dead-letter queue).
    pub fn is_asynchronous(self) -> bool {
        self != Invocation::Synchronous
    }
}

/// Every event-driven function.
pub static TRIGGERS: &[Trigger] = &[
    Trigger {
        function: "auth-pre-token",
        summary: "Cognito pre-token generation: the member's clinic and role into the tokens",
        access: &[(Records, Op::Get)],
        invocation: Invocation::Synchronous,
        grants: &[],
    },
    Trigger {
        function: "photos-process",
        summary: "An upload landed in quarantine: check, clean, render, seal and store it, then empty quarantine",
        access: &[(Records, Op::Get), (Records, Op::Put), (Audit, Op::Put)],
        invocation: Invocation::Upload,
        // Deleting under photos/: a run that loses the race to commit removes the objects it wrote.
        grants: &[Grant::DrainQuarantine, Grant::WritePhotos, Grant::DeletePhotos, Grant::GenerateDataKey],
    },
    Trigger {
        function: "photos-sweep",
        summary: "Daily: delete sealed photo objects that no photo record names, once older than six hours",
        access: &[(Records, Op::Get)],
        invocation: Invocation::Schedule("rate(1 day)"),
        grants: &[Grant::ListPhotos, Grant::DeletePhotos],
    },
    Trigger {
        function: "audit-archive",
        summary: "The audit table's stream: chained, hashed batches into the Object Lock archive; tampering raised",
        access: &[(Records, Op::Get), (Records, Op::Put), (Audit, Op::Put)],
        invocation: Invocation::AuditStream,
        grants: &[Grant::ArchiveAudit],
    },
    Trigger {
        function: "audit-retire",
        summary: "Daily: events older than the table's window leave it, once verified in the archive; pointers stay",
        access: &[
            (Records, Op::Get),
            (Records, Op::Put),
            (Records, Op::Query),
            (Audit, Op::Query),
            (Audit, Op::Put),
            (Audit, Op::Delete),
        ],
        invocation: Invocation::Schedule("rate(1 day)"),
        grants: &[Grant::ReadAuditArchive],
    },
    Trigger {
        function: "usage-meter",
        summary: "The audit table's stream: each billable event added once to its clinic's daily usage counters; the spend cap's flag and notices",
        access: &[(Records, Op::Get), (Records, Op::Put), (Records, Op::Update), (Records, Op::Query)],
        invocation: Invocation::AuditStream,
        grants: &[],
    },
    Trigger {
        function: "usage-export",
        summary: "Daily: the latest closed month's use as meter events for the payment provider, once written",
        access: &[(Records, Op::Get), (Records, Op::Query)],
        invocation: Invocation::Schedule("rate(1 day)"),
        grants: &[Grant::ExportUsage],
    },
    Trigger {
        function: "exports-run",
        summary: "Every minute: build each queued export of a patient's record into its ZIP, and delete each ZIP seven days after it was ready",
        access: &[(Records, Op::Get), (Records, Op::Put), (Records, Op::Query), (Audit, Op::Put), (Audit, Op::Query)],
        invocation: Invocation::Schedule("rate(1 minute)"),
        grants: &[Grant::ReadPhotos, Grant::DecryptDataKey, Grant::WriteExports, Grant::ReadAuditArchive],
    },
    Trigger {
        function: "messages-dispatch",
        summary: "Every minute: queue the due appointment reminders and send the queued messages, each once",
        access: &[
            (Records, Op::Get),
            (Records, Op::Put),
            (Records, Op::Query),
            (Records, Op::Delete),
            (Audit, Op::Put),
        ],
        invocation: Invocation::Schedule("rate(1 minute)"),
        grants: &[Grant::SendEmail, Grant::SendSms],
    },
];

/// The routes a function serves.
pub fn by_function(function: &str) -> Vec<&'static Route> {
    ROUTES.iter().filter(|r| r.function == function).collect()
}

/// The routes `function` serves, with their code (at run time, for hosts that hold every handler anyway).
pub fn served_by_function(function: &str) -> Vec<&'static Served> {
    SERVED.iter().filter(|s| s.route.function == function).collect()
}

/// Every function that serves routes, in route-table order, each once.
pub fn functions() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for route in ROUTES.iter() {
        if !names.contains(&route.function) {
            names.push(route.function);
        }
    }
    names
}

/// What a function does: its route's summary, or the summary of the group it serves.
pub fn function_summary(function: &str) -> &'static str {
    match FUNCTION_SUMMARIES.iter().find(|(f, _)| *f == function) {
        Some((_, summary)) => summary,
        None => ROUTES.iter().find(|r| r.function == function).map_or("", |r| r.summary),
    }
}

/// The route of a chart kind's operation (`create`, `list`, ...), from the role table.
/// The route of a name, if there is one.
pub fn named(name: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.name == name)
}

pub fn chart_route(kind: ChartKind, operation: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.chart == Some(kind) && r.name.rsplit('.').next() == Some(operation))
}

/// Whether `role` reads a chart section (the kind's read route allows it), without break-glass.
pub fn reads_chart(kind: ChartKind, role: Role) -> bool {
    chart_route(kind, "read").is_some_and(|r| r.allows(role))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_route_has_its_own_name_and_method_path() {
        let names: HashSet<_> = ROUTES.iter().map(|r| r.name).collect();
        let keys: HashSet<_> = ROUTES.iter().map(|r| (r.method, r.path)).collect();
        assert_eq!(names.len(), ROUTES.len());
        assert_eq!(keys.len(), ROUTES.len());
    }

    #[test]
    fn a_function_serves_one_route_but_for_the_chart_kinds_a_public_site_or_a_small_catalogue() {
        for function in functions() {
            let routes = by_function(function);
            if routes.len() > 1 {
                assert!(FUNCTION_SUMMARIES.iter().any(|(f, _)| *f == function), "{function} needs a summary");
                // A public site (the patients' booking page and its routes) is one function: one cold start
                // for a visitor's whole visit, and one set of resources in the stack.
                let site = routes[0].name.split('.').next().unwrap_or("");
                if routes.iter().all(|r| r.is_public() && r.name.split('.').next() == Some(site)) {
                    continue;
                }
                // A small catalogue a clinic keeps (its safety products) is one function: its routes read and
                // write the same items of the clinic's partition, and the stack stays below its limit.
                let collection = routes[0].path.split("/{").next().unwrap_or("");
                let one_catalogue = routes.iter().all(|r| {
                    !r.is_public()
                        && r.chart.is_none()
                        && r.name.split('.').next() == Some(site)
                        && r.path.split("/{").next() == Some(collection)
                        && r.access.iter().all(|(table, _)| *table == Records)
                });
                // The FHIR face is one function: a resource type is a path parameter, not a route of its own.
                if one_catalogue || routes.iter().all(|r| crate::fhir::outcome::is_fhir_path(r.path)) {
                    continue;
                }
                assert_eq!(routes.len(), ChartKind::ALL.len(), "{function}");
                let operation = |r: &Route| r.name.rsplit('.').next().unwrap_or("").to_string();
                assert!(routes.iter().all(|r| operation(r) == operation(routes[0]) && r.chart.is_some()), "{function}");
            }
        }
    }

    #[test]
    fn front_desk_reads_allergies_only_and_billing_no_notes() {
        for kind in ChartKind::ALL.iter().copied() {
            let read = chart_route(kind, "read").unwrap();
            assert_eq!(read.allows(Role::FrontDesk), kind == ChartKind::Allergy, "{kind}");
            assert_eq!(
                read.allows(Role::Billing),
                matches!(kind, ChartKind::Treatment | ChartKind::Condition),
                "{kind}"
            );
            let create = chart_route(kind, "create").unwrap();
            assert_eq!(create.roles, CLINICIANS, "{kind}");
        }
    }

    #[test]
    fn only_link_routes_are_open_to_patients_clinic_creation_to_operators_and_joining_to_joiners() {
        for route in ROUTES.iter() {
            assert_eq!(route.allows(Role::Patient), route.is_public(), "{route:?}");
            let public_path = route.path.contains("{token}") || route.path.contains("{clinicSlug}");
            assert_eq!(route.is_public(), public_path, "{route:?}");
            let for_operators = route.name == "clinics.create" || route.path.starts_with("/v1/operator/");
            assert_eq!(route.allows(Role::Operator), for_operators, "{route:?}");
            assert_eq!(route.allows(Role::Joiner), route.name == "staff.join", "{route:?}");
            assert!(!route.allows(Role::Operator) || !route.allows(Role::Joiner), "an operator never joins a clinic");
        }
    }
}
