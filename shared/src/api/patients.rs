//! Patients: register, search, read and change demographics.

use serde_json::{Value, json};

use super::{page_body, scope, start_after};
use crate::domain::fields::merge_patch;
use crate::domain::keys;
use crate::domain::patient::{Patient, PatientDetails, format_mrn, mrn_item};
use crate::domain::rights::Tombstone;
use crate::domain::role::Role;
use crate::domain::values::{BirthDate, EntityId, Phone, search_fold};
use crate::http::input::{Input, at_version, read_form};
use crate::http::outcome::{Facts, Guarded, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::store::schema::Index;
use crate::store::{Cond, Item, Key, Query, SkRange, Table, Update, Write, entity_from, str_attr};

fn patient_write(clinic: EntityId, patient: &Patient, cond: Cond, on_fail: ApiError) -> Guarded {
    Guarded::new(Write::put(Table::Records, patient.to_item(clinic), cond), on_fail)
}

/// Reads a patient of the caller's clinic that the caller may act on as its restriction stands (see
/// [`gate`]); another clinic's id is simply not found, an erased patient's is gone.
pub async fn load(ctx: &Ctx, patient: EntityId) -> Result<Patient, ApiError> {
    if let Some(named) = ctx.named_patient.as_ref().filter(|p| p.id == patient) {
        return Ok(named.clone());
    }
    let clinic = ctx.clinic()?;
    let Some(item) =
        ctx.app.records.get(Table::Records, &Key::new(keys::clinic_pk(clinic), keys::patient_sk(patient))).await?
    else {
        return Err(erased(ctx, clinic, patient).await?);
    };
    let patient: Patient = entity_from(item)?;
    gate(ctx, &patient)?;
    Ok(patient)
}

/// Checks the caller may act on a patient of the caller's clinic as its restriction stands, where the
/// patient is still there (an erased patient's appointments stay the clinic's).
pub async fn check(ctx: &Ctx, patient: EntityId) -> Result<(), ApiError> {
    let key = Key::new(keys::clinic_pk(ctx.clinic()?), keys::patient_sk(patient));
    match ctx.app.records.get(Table::Records, &key).await?.map(entity_from::<Patient>).transpose()? {
        Some(found) => gate(ctx, &found),
        None => Ok(()),
    }
}

/// The day of a stored time.
fn day(time: &str) -> &str {
    time.get(..10).unwrap_or(time)
}

/// Why a patient is not there: erased (with when), or never was.
async fn erased(ctx: &Ctx, clinic: EntityId, patient: EntityId) -> Result<ApiError, ApiError> {
    let tombstone = ctx.app.records.get(Table::Records, &Tombstone::key(clinic, patient)).await?;
    Ok(match tombstone.map(entity_from::<Tombstone>).transpose()? {
        Some(t) => ApiError::Gone(format!(
            "the patient's record was erased on {} at their request (erasure request {}); only the access log remains",
            day(&t.erased_at),
            t.request_id
        )),
        None => ApiError::NotFound,
    })
}

/// The routes an administrator may still write through to a restricted record: those that answer the
/// patient's rights (to erase, to lift, to take a copy), and cancelling an appointment (an erasure waits
/// for the upcoming ones to be cancelled).
const RIGHTS_ROUTES: &[&str] = &[
    "erasure-requests.create",
    "erasure-requests.decide",
    "erasure-requests.complete",
    "erasure-requests.lift",
    "exports.create",
    "photos.erase",
    "appointments.cancel",
    "photos.erase-all",
];

/// Whether the caller may act on `patient` as its restriction stands: while restricted, only
/// administrators (and Vellum's own workers) open the record, and only to answer the patient's rights is
/// anything written to it.
pub fn gate(ctx: &Ctx, patient: &Patient) -> Result<(), ApiError> {
    let Some(restriction) = &patient.restriction else { return Ok(()) };
    let since = day(&restriction.since);
    if !matches!(ctx.caller.role, Role::Admin | Role::System) {
        return Err(ApiError::Forbidden(format!(
            "the patient's record is restricted since {since} (GDPR Art. 18): only administrators may open it"
        )));
    }
    if ctx.route.method != "GET" && ctx.caller.role == Role::Admin && !RIGHTS_ROUTES.contains(&ctx.route.name) {
        return Err(ApiError::Conflict(format!(
            "the patient's record is restricted since {since} (GDPR Art. 18): nothing new is written to it until the restriction is lifted"
        )));
    }
    Ok(())
}

/// Whether the caller sees `patient` in a search: a restricted record shows to administrators only.
fn visible(ctx: &Ctx, patient: &Patient) -> bool {
    patient.restriction.is_none() || ctx.caller.role == Role::Admin
}

/// `POST /v1/patients`
pub async fn create(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let details = input.form(ctx.rules(), PatientDetails::read)?;
    let (patient, writes) = register(&ctx, details).await?;
    let reply = Reply::created(json!(patient), format!("/v1/patients/{}", patient.id)).versioned(1);
    Ok(Outcome::Write(writes, reply, Facts::patient(patient.id)))
}

/// A new patient with the clinic's next record number, and the writes that register them.
pub async fn register(ctx: &Ctx, details: PatientDetails) -> Result<(Patient, Vec<Guarded>), ApiError> {
    let clinic = ctx.clinic()?;
    let counter = ctx
        .app
        .records
        .update(
            Table::Records,
            &Key::new(keys::clinic_pk(clinic), keys::MRN_COUNTER),
            Update { set: Item::new(), add: vec![("last".into(), 1)] },
            Cond::Always,
        )
        .await?;
    let number = counter.get("last").and_then(Value::as_i64).ok_or_else(|| ApiError::Internal("MRN counter".into()))?;
    let now = ctx.now_text();
    let patient = Patient {
        id: ctx.new_id(),
        mrn: format_mrn(number),
        details,
        restriction: None,
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    };
    let collision = || ApiError::Conflict("an id collided; retry".into());
    let writes = vec![
        patient_write(clinic, &patient, Cond::NotExists, collision()),
        Guarded::new(
            Write::put(Table::Records, mrn_item(clinic, &patient.mrn, patient.id), Cond::NotExists),
            collision(),
        ),
    ];
    Ok((patient, writes))
}

/// `GET /v1/patients/{patientId}`
pub async fn read(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let id = input.entity("patientId")?;
    let patient = load(&ctx, id).await?;
    let version = patient.version;
    Ok(Outcome::Read(Reply::ok(json!(patient)).versioned(version), Facts::patient(id)))
}

/// `PATCH /v1/patients/{patientId}` with a JSON merge patch.
pub async fn update(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let id = input.entity("patientId")?;
    let patch = input.json(&["application/merge-patch+json", "application/json"])?;
    if !patch.is_object() {
        return Err(ApiError::field("", "the body must be a JSON object (a merge patch)"));
    }
    let expected = input.if_match()?;
    let current = load(&ctx, id).await?;
    let mut doc = serde_json::to_value(&current.details).map_err(|e| ApiError::Internal(e.to_string()))?;
    merge_patch(&mut doc, &patch);
    let details = read_form(&doc, ctx.rules(), PatientDetails::read)?;
    at_version(expected, current.version)?;
    let patient = Patient { details, updated_at: ctx.now_text(), version: current.version + 1, ..current };
    let writes = vec![patient_write(ctx.clinic()?, &patient, Cond::VersionIs(expected), ApiError::PreconditionFailed)];
    let reply = Reply::ok(json!(patient)).versioned(patient.version);
    Ok(Outcome::Write(writes, reply, Facts::patient(id)))
}

/// What a patient search looks for: a family-name prefix (folded), a birth date, a phone number, a record
/// number; every one given must match.
#[derive(Clone, Debug, Default)]
pub struct Search {
    family: Option<String>,
    birth_date: Option<String>,
    phone: Option<String>,
    mrn: Option<String>,
}

impl Search {
    /// A search; the family name is folded as the name index is.
    pub fn new(family: Option<&str>, birth_date: Option<String>, phone: Option<String>, mrn: Option<String>) -> Self {
        Self { family: family.map(search_fold), birth_date, phone, mrn }
    }

    fn matches(&self, patient: &Patient) -> bool {
        let d = &patient.details;
        self.family.as_ref().is_none_or(|f| search_fold(d.family_name.as_str()).starts_with(f.as_str()))
            && self.birth_date.as_ref().is_none_or(|b| d.birth_date.0.to_string() == *b)
            && self.phone.as_ref().is_none_or(|p| d.phone.as_ref().map(Phone::as_str) == Some(p.as_str()))
            && self.mrn.as_ref().is_none_or(|m| patient.mrn == *m)
    }

    /// What makes two pages part of one search.
    fn scope(&self) -> [Option<&str>; 4] {
        [self.family.as_deref(), self.birth_date.as_deref(), self.phone.as_deref(), self.mrn.as_deref()]
    }
}

/// A page of at most `limit` patients the search finds after `after`, with where the next page starts.
pub async fn find(
    ctx: &Ctx,
    search: &Search,
    limit: usize,
    after: Option<Item>,
) -> Result<(Vec<Patient>, Option<Item>), ApiError> {
    let clinic = ctx.clinic()?;
    if search.family.as_deref() == Some("") {
        // A name without a letter or digit names no one.
        return Ok((Vec::new(), None));
    }
    let (patients, next) = if let Some(mrn) = &search.mrn {
        // A record number names at most one patient: look it up directly.
        let lookup = ctx.app.records.get(Table::Records, &Key::new(keys::clinic_pk(clinic), keys::mrn_sk(mrn))).await?;
        let found = match lookup.as_ref().and_then(|i| str_attr(i, "patientId")).and_then(EntityId::parse) {
            Some(id) => {
                let key = Key::new(keys::clinic_pk(clinic), keys::patient_sk(id));
                ctx.app.records.get(Table::Records, &key).await?.map(entity_from).transpose()?.into_iter().collect()
            }
            None => Vec::new(),
        };
        (found, None)
    } else {
        let query = if let Some(phone) = &search.phone {
            Query::new(Table::Records, keys::patient_phone_index(clinic, phone)).index(Index::Gsi3)
        } else if let Some(date) = &search.birth_date {
            Query::new(Table::Records, keys::patient_birth_date_index(clinic, date)).index(Index::Gsi2)
        } else {
            let prefix = search.family.as_ref().map(|f| SkRange::Prefix(f.clone())).unwrap_or(SkRange::All);
            Query::new(Table::Records, keys::patient_name_index(clinic)).index(Index::Gsi1).sk(prefix)
        };
        let page = ctx.app.records.query(query.limit(limit).start_after(after)).await?;
        let patients = page.items.into_iter().map(entity_from::<Patient>).collect::<Result<Vec<_>, _>>()?;
        (patients, page.next)
    };
    Ok((patients.into_iter().filter(|p| search.matches(p) && visible(ctx, p)).collect(), next))
}

/// `GET /v1/patients?familyName=&birthDate=&phone=&mrn=&limit=&cursor=`
pub async fn list(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let params = input.params(ctx.route.query)?;
    let rules = ctx.rules();
    let family = match params.get("familyName") {
        Some(raw) if raw.chars().count() > 200 => {
            return Err(ApiError::field("familyName", "must be at most 200 characters"));
        }
        other => other,
    };
    let search = Search::new(
        family,
        params.parsed::<BirthDate>("birthDate", &rules)?.map(|b| b.0.to_string()),
        params.parsed::<Phone>("phone", &rules)?.map(|p| p.as_str().to_string()),
        match params.get("mrn") {
            Some(m) if m.len() == 8 && m.bytes().all(|b| b.is_ascii_digit()) => Some(m.to_string()),
            Some(_) => return Err(ApiError::field("mrn", "must be the 8-digit medical record number")),
            None => None,
        },
    );
    let limit = params.limit()?;
    let scope = scope(&ctx, &search.scope());
    let after = start_after(&ctx, &params, &scope)?;
    let (found, next) = find(&ctx, &search, limit, after).await?;
    let facts = Facts::listing(found.iter().map(|p| p.id).collect());
    let body = page_body(&ctx, &scope, found.iter().map(|p| p.summary()).collect(), next)?;
    Ok(Outcome::Read(Reply::ok(body), facts))
}
