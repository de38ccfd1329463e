//! The route table: every route, its function, and which roles may call it. Nothing else grants access.

use std::future::Future;
use std::pin::Pin;

use super::input::Input;
use super::outcome::Outcome;
use super::pipeline::Ctx;
use super::problem::ApiError;
use crate::api;
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
}

/// One route of the API.
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
    pub handler: Handler,
}

impl Route {
    pub fn allows(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Every operation, including the membership read and the audit write all routes make.
    pub fn operations(&self) -> Vec<(Table, Op)> {
        let mut ops = vec![(Table::Records, Op::Get), (Table::Audit, Op::Put)];
        for op in self.access {
            if !ops.contains(op) {
                ops.push(*op);
            }
        }
        ops
    }
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

use Role::{Admin, Billing, FrontDesk, Nurse, Operator, Practitioner};
use Table::{Audit, Records};

const PAGE: &[&str] = &["limit", "cursor"];
const ALL_STAFF: &[Role] = &[Admin, Practitioner, Nurse, FrontDesk, Billing];
const REGISTRARS: &[Role] = &[Admin, Practitioner, Nurse, FrontDesk];
/// A write that also answers idempotent retries: it reads the stored first response.
const IDEMPOTENT_WRITE: &[(Table, Op)] = &[(Records, Op::Put)];

/// Every route Vellum serves.
pub static ROUTES: &[Route] = &[
    Route {
        name: "clinics.create",
        function: "clinics-create",
        method: "POST",
        path: "/v1/clinics",
        summary: "Open a clinic with its first administrator",
        query: &[],
        body: Some("NewClinic"),
        roles: &[Operator],
        access: IDEMPOTENT_WRITE,
        handler: handler!(api::clinics::create),
    },
    Route {
        name: "clinic.read",
        function: "clinic-get",
        method: "GET",
        path: "/v1/clinic",
        summary: "The caller's own clinic",
        query: &[],
        body: None,
        roles: ALL_STAFF,
        access: &[],
        handler: handler!(api::clinics::read),
    },
    Route {
        name: "staff.create",
        function: "staff-create",
        method: "POST",
        path: "/v1/staff",
        summary: "Add a staff member with a role",
        query: &[],
        body: Some("NewStaff"),
        roles: &[Admin],
        access: IDEMPOTENT_WRITE,
        handler: handler!(api::staff::create),
    },
    Route {
        name: "staff.list",
        function: "staff-list",
        method: "GET",
        path: "/v1/staff",
        summary: "List the clinic's staff",
        query: PAGE,
        body: None,
        roles: &[Admin],
        access: &[(Records, Op::Query)],
        handler: handler!(api::staff::list),
    },
    Route {
        name: "staff.update",
        function: "staff-update",
        method: "PATCH",
        path: "/v1/staff/{userId}",
        summary: "Change a member's role, name or status",
        query: &[],
        body: Some("StaffChange"),
        roles: &[Admin],
        access: &[(Records, Op::Put)],
        handler: handler!(api::staff::update),
    },
    Route {
        name: "patients.create",
        function: "patients-create",
        method: "POST",
        path: "/v1/patients",
        summary: "Register a patient; Vellum assigns the record number",
        query: &[],
        body: Some("PatientDetails"),
        roles: REGISTRARS,
        access: &[(Records, Op::Put), (Records, Op::Update)],
        handler: handler!(api::patients::create),
    },
    Route {
        name: "patients.list",
        function: "patients-list",
        method: "GET",
        path: "/v1/patients",
        summary: "Find patients by family-name prefix, birth date, phone or record number",
        query: &["familyName", "birthDate", "phone", "mrn", "limit", "cursor"],
        body: None,
        roles: ALL_STAFF,
        access: &[(Records, Op::Query)],
        handler: handler!(api::patients::list),
    },
    Route {
        name: "patients.read",
        function: "patients-get",
        method: "GET",
        path: "/v1/patients/{patientId}",
        summary: "A patient's demographics",
        query: &[],
        body: None,
        roles: ALL_STAFF,
        access: &[],
        handler: handler!(api::patients::read),
    },
    Route {
        name: "patients.update",
        function: "patients-update",
        method: "PATCH",
        path: "/v1/patients/{patientId}",
        summary: "Change a patient's demographics (JSON merge patch)",
        query: &[],
        body: Some("PatientPatch"),
        roles: REGISTRARS,
        access: &[(Records, Op::Put)],
        handler: handler!(api::patients::update),
    },
    Route {
        name: "patients.access-log",
        function: "patients-access-log",
        method: "GET",
        path: "/v1/patients/{patientId}/access-log",
        summary: "Who touched this patient's record, when and how",
        query: &["from", "to", "limit", "cursor"],
        body: None,
        roles: &[Admin, Practitioner],
        access: &[(Audit, Op::Query)],
        handler: handler!(api::audit::access_log),
    },
    Route {
        name: "audit.list",
        function: "audit-list",
        method: "GET",
        path: "/v1/audit",
        summary: "Access events by patient, actor and time, newest first",
        query: &["patientId", "actor", "from", "to", "limit", "cursor"],
        body: None,
        roles: &[Admin],
        access: &[(Audit, Op::Query), (Records, Op::Get)],
        handler: handler!(api::audit::list),
    },
];

/// A function invoked by an AWS event rather than an API route.
#[derive(Debug)]
pub struct Trigger {
    pub function: &'static str,
    pub summary: &'static str,
    /// What it does to which table.
    pub access: &'static [(Table, Op)],
    /// Whether AWS invokes it asynchronously (and so gives it a dead-letter queue).
    pub asynchronous: bool,
}

/// Every event-driven function.
pub static TRIGGERS: &[Trigger] = &[Trigger {
    function: "auth-pre-token",
    summary: "Cognito pre-token generation: the member's clinic and role into the tokens",
    access: &[(Records, Op::Get)],
    asynchronous: false,
}];

/// The route a function serves.
pub fn by_function(function: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.function == function)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_route_has_its_own_function_name_and_method_path() {
        let functions: HashSet<_> = ROUTES.iter().map(|r| r.function).collect();
        let names: HashSet<_> = ROUTES.iter().map(|r| r.name).collect();
        let keys: HashSet<_> = ROUTES.iter().map(|r| (r.method, r.path)).collect();
        assert_eq!(functions.len(), ROUTES.len());
        assert_eq!(names.len(), ROUTES.len());
        assert_eq!(keys.len(), ROUTES.len());
    }

    #[test]
    fn no_route_is_open_to_patients_and_only_clinic_creation_to_operators() {
        for route in ROUTES {
            assert!(!route.allows(Role::Patient), "{route:?}");
            assert_eq!(route.allows(Role::Operator), route.name == "clinics.create", "{route:?}");
        }
    }
}
