//! The FHIR R4 face: the CapabilityStatement, a resource's read, a type's search and a patient's
//! `$everything`, mapped from the records with the JSON API's roles, tenancy and audit (a FHIR read is a
//! read of the patient's record).

use serde_json::{Value, json};

use super::catalogue::load_item;
use super::{audit, break_glass, invitations, patients};
use crate::domain::audit::Resource;
use crate::domain::break_glass::{BREAKERS, Mark};
use crate::domain::keys;
use crate::domain::scheduling::appointment::Appointment;
use crate::domain::values::EntityId;
use crate::fhir::record::Record;
use crate::fhir::search::{self, Search};
use crate::fhir::{BASE_PATH, EVERYTHING, FHIR_JSON, ResourceType, audit_event, capability};
use crate::http::input::Input;
use crate::http::outcome::{Facts, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::store::{Index, Item, Query, SkRange, Table, entity_from};

/// How many records a search reads at most for one page: a page of rare matches ends early, with a link to
/// go on.
const SCAN_LIMIT: usize = 500;

/// A FHIR answer.
fn fhir_reply(body: &Value) -> Reply {
    Reply::bytes(FHIR_JSON, body.to_string().into_bytes())
}

/// The type the path names, if served.
fn resource_type(input: &Input) -> Result<ResourceType, ApiError> {
    let name = input.path.get("resourceType").map(String::as_str).unwrap_or("");
    ResourceType::named(name).ok_or_else(|| {
        ApiError::field(
            "resourceType",
            format!("is not a resource type this server serves; it serves {}", crate::fhir::served_names()),
        )
    })
}

/// What the caller reads of a patient's record: the types their role reads, with those that break-glass they
/// opened for the patient adds, and the marks of that break-glass, which the access event carries.
struct Reach {
    types: Vec<ResourceType>,
    marks: Vec<Mark>,
}

impl Reach {
    /// The caller's reach into `patient`'s record (with none named, their role's alone).
    async fn of(ctx: &Ctx, patient: Option<EntityId>) -> Result<Self, ApiError> {
        let role = ctx.caller.role;
        let mut types: Vec<ResourceType> =
            ResourceType::ALL.iter().copied().filter(|t| capability::reads(*t, role)).collect();
        let closed: Vec<ResourceType> = ResourceType::ALL
            .iter()
            .copied()
            .filter(|t| !types.contains(t) && capability::break_glass_scope(*t).is_some())
            .collect();
        let mut marks = Vec::new();
        if let Some(patient) = patient.filter(|_| !closed.is_empty() && BREAKERS.contains(&role)) {
            for grant in break_glass::open_now(ctx, patient).await? {
                let opened = closed.iter().copied().filter(|t| capability::break_glass_scope(*t) == Some(grant.scope));
                let before = types.len();
                types.extend(opened);
                if types.len() > before {
                    marks.push(grant.mark());
                }
            }
            // Where an entry came from is read with the entry.
            if types.iter().any(|t| t.chart_kind().is_some()) && !types.contains(&ResourceType::Provenance) {
                types.push(ResourceType::Provenance);
            }
        }
        Ok(Self { types, marks })
    }

    fn reads(&self, resource_type: ResourceType) -> bool {
        self.types.contains(&resource_type)
    }

    /// That the caller reads the type; else 403, saying which break-glass would open it.
    fn ensure(&self, ctx: &Ctx, resource_type: ResourceType, patient: Option<EntityId>) -> Result<(), ApiError> {
        if self.reads(resource_type) {
            return Ok(());
        }
        let refusal = format!("the {} role does not read {resource_type}", ctx.caller.role);
        let scope = capability::break_glass_scope(resource_type).filter(|_| BREAKERS.contains(&ctx.caller.role));
        Err(ApiError::Forbidden(match (scope, patient) {
            (Some(scope), Some(patient)) => format!(
                "{refusal}; break glass (POST /v1/patients/{patient}/break-glass, scope {scope}) to open it for a while"
            ),
            _ => refusal,
        }))
    }

    /// The marks of the break-glass that opened a type (a Provenance: any, as its entries' types open).
    fn marks_for(&self, resource_type: ResourceType) -> Vec<Mark> {
        let scope = capability::break_glass_scope(resource_type);
        let opens = |m: &&Mark| resource_type == ResourceType::Provenance || Some(m.scope) == scope;
        self.marks.iter().filter(opens).cloned().collect()
    }
}

/// `GET /fhir/R4/metadata`
pub async fn metadata(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    input.params(ctx.route.query)?;
    let statement = capability::statement(&ctx.now.date_naive().to_string());
    Ok(Outcome::Read(fhir_reply(&statement), Facts::none()))
}

/// `GET /fhir/R4/{resourceType}/{id}`
pub async fn read(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let resource_type = resource_type(&input)?;
    let id = input.path.get("id").map(String::as_str).unwrap_or("");
    let patient = patient_of_record(resource_type, &input);
    let reach = Reach::of(&ctx, patient).await?;
    reach.ensure(&ctx, resource_type, patient)?;
    input.params(ctx.route.query)?;
    match resource_type {
        ResourceType::Patient => {
            let patient = patients::load(&ctx, EntityId::parse(id).ok_or(ApiError::NotFound)?).await?;
            let resource = crate::fhir::patient::patient(ctx.clinic()?, &patient);
            Ok(Outcome::Read(fhir_reply(&resource).versioned(patient.version), Facts::patient(patient.id)))
        }
        ResourceType::AuditEvent => {
            let key = audit_event::sort_key(id).ok_or(ApiError::NotFound)?;
            let event = audit::event_at(&ctx, &key).await?.ok_or(ApiError::NotFound)?;
            // Only an event about a patient is part of a record: the rest of the trail is the JSON API's.
            let about: Vec<EntityId> =
                event.patient_id.into_iter().chain(event.listed_patients.iter().copied()).collect();
            if about.is_empty() {
                return Err(ApiError::NotFound);
            }
            Ok(Outcome::Read(fhir_reply(&audit_event::audit_event(&event)).versioned(1), Facts::listing(about)))
        }
        ResourceType::Appointment => {
            let key = Appointment::key(ctx.clinic()?, EntityId::parse(id).ok_or(ApiError::NotFound)?);
            let appointment: Appointment = load_item(&ctx, key).await?.ok_or(ApiError::NotFound)?;
            let resource = crate::fhir::appointment::appointment(&appointment);
            let facts = Facts::patient(appointment.patient_id).with("appointment", appointment.id);
            Ok(Outcome::Read(fhir_reply(&resource).versioned(appointment.version), facts))
        }
        _ => {
            let patient = patient.ok_or(ApiError::NotFound)?;
            let key = resource_type.record_key(ctx.clinic()?, id).ok_or(ApiError::NotFound)?;
            let item = ctx.app.records.get(Table::Records, &key).await?.ok_or(ApiError::NotFound)?;
            let record = Record::from_item(item)?.ok_or(ApiError::NotFound)?;
            let origin = invitations::origin(&ctx)?;
            let resource = shown(&reach, resource_type, &record, &origin)
                .into_iter()
                .find(|r| r["id"] == id)
                .ok_or(ApiError::NotFound)?;
            let mut facts = Facts::patient(patient).under(reach.marks_for(resource_type));
            facts.resources.push(record.audited());
            Ok(Outcome::Read(fhir_reply(&resource).versioned(record.version()), facts))
        }
    }
}

/// The patient whose record a read or search of another type than Patient names (by the id, or the search's
/// `patient`), if it names one.
fn patient_of_record(resource_type: ResourceType, input: &Input) -> Option<EntityId> {
    (resource_type != ResourceType::Patient)
        .then(|| crate::fhir::named_patient(&input.path, input.query.as_deref()))
        .flatten()
}

/// The resources of `resource_type` a record becomes for the caller: a Provenance only with an entry of a
/// type the caller reads.
fn shown(reach: &Reach, resource_type: ResourceType, record: &Record, origin: &str) -> Vec<Value> {
    if let (ResourceType::Provenance, Record::Entry(entry)) = (resource_type, record)
        && !ResourceType::of_kind(entry.kind).is_some_and(|t| reach.reads(t))
    {
        return Vec::new();
    }
    resource_type.from_record(record, origin)
}

/// `GET /fhir/R4/{resourceType}?…`: a searchset bundle, newest first, paged by a sealed cursor.
pub async fn search(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let resource_type = resource_type(&input)?;
    let patient = patient_of_record(resource_type, &input);
    let reach = Reach::of(&ctx, patient).await?;
    reach.ensure(&ctx, resource_type, patient)?;
    let search = search::read(resource_type, input.query.as_deref())?;
    let scope = super::scope(&ctx, &[Some(resource_type.as_str()), Some(&search.scope().join("&"))]);
    let after = opened(&ctx, &search, &scope)?;
    let (resources, next, facts) = match (resource_type, search.patient) {
        (ResourceType::Patient, _) => search_patients(&ctx, &search, after).await?,
        (_, Some(patient)) => {
            patients::load(&ctx, patient).await?;
            let phase =
                Phase::of(resource_type).ok_or_else(|| ApiError::Internal(format!("{resource_type} has no phase")))?;
            phase.page(&ctx, &reach, Some(resource_type), &search, patient, true, search.count, after).await?
        }
        (_, None) => {
            return Err(ApiError::Internal("search::read lets no search of a record without its patient".into()));
        }
    };
    let facts = facts.under(reach.marks_for(resource_type));
    let next = super::seal_cursor(&ctx, &scope, next)?;
    let bundle = searchset(&invitations::origin(&ctx)?, resource_type.as_str(), &search, resources, next.as_deref());
    Ok(Outcome::Read(fhir_reply(&bundle), facts))
}

/// The field of a `$everything` cursor that names the phase it continues (none: the chart partition).
const PHASE: &str = "everythingPhase";

/// Where a patient's resources are read, in the order `$everything` reads them: the chart partition, then
/// the appointments by start, then the access log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Chart,
    Appointments,
    AccessLog,
}

impl Phase {
    const ALL: [Phase; 3] = [Phase::Chart, Phase::Appointments, Phase::AccessLog];

    /// The phase a type's resources are read in (none for Patient).
    fn of(resource_type: ResourceType) -> Option<Self> {
        match resource_type {
            ResourceType::Patient => None,
            ResourceType::Appointment => Some(Phase::Appointments),
            ResourceType::AuditEvent => Some(Phase::AccessLog),
            _ => Some(Phase::Chart),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Phase::Chart => "chart",
            Phase::Appointments => "appointments",
            Phase::AccessLog => "accessLog",
        }
    }

    /// The phase a `$everything` position is in, and the position within it (none: its start).
    fn of_position(mut position: Item) -> Option<(Self, Option<Item>)> {
        let phase = match position.remove(PHASE) {
            None => Phase::Chart,
            Some(Value::String(name)) => *Self::ALL.iter().find(|p| p.name() == name)?,
            Some(_) => return None,
        };
        Some((phase, Some(position).filter(|p| !p.is_empty())))
    }

    /// A `$everything` position in this phase (none: its start).
    fn position(self, within: Option<Item>) -> Item {
        let mut position = within.unwrap_or_default();
        if self != Phase::Chart {
            position.insert(PHASE.into(), self.name().into());
        }
        position
    }

    /// A page of the patient's resources (of the type `only`, else of every type the caller reads), read in
    /// this phase after `after` (most recent first if `newest_first`), at most `count` (but a record's
    /// resources are never split).
    #[allow(clippy::too_many_arguments)]
    async fn page(
        self,
        ctx: &Ctx,
        reach: &Reach,
        only: Option<ResourceType>,
        search: &Search,
        patient: EntityId,
        newest_first: bool,
        count: usize,
        after: Option<Item>,
    ) -> Result<Found, ApiError> {
        let clinic = ctx.clinic()?;
        let types: Vec<ResourceType> = ResourceType::ALL
            .iter()
            .copied()
            .filter(|t| Phase::of(*t) == Some(self) && only.is_none_or(|o| o == *t) && reach.reads(*t))
            .collect();
        if types.is_empty() {
            return Ok((Vec::new(), None, Facts::patient(patient)));
        }
        match self {
            Phase::Chart => {
                // One type searched reads its part of the partition; $everything reads all of it.
                let prefix = match types.as_slice() {
                    [only] => only.chart_prefix(),
                    _ => None,
                };
                let origin = invitations::origin(ctx)?;
                let scan = Scan::chart(clinic, patient, prefix, newest_first, count);
                scan.run(ctx, after, |item| {
                    Ok(Record::from_item(item)?.map(|record| {
                        let made = if record.is_valid() && search.updated_within(&record.updated_at()) {
                            types.iter().flat_map(|t| shown(reach, *t, &record, &origin)).collect()
                        } else {
                            Vec::new()
                        };
                        (made, record.audited())
                    }))
                })
                .await
            }
            Phase::Appointments => {
                let scan = Scan::appointments(clinic, patient, newest_first, count);
                scan.run(ctx, after, appointment_resources(search)).await
            }
            Phase::AccessLog => {
                let (events, next) = audit::patient_log_page(ctx, patient, count, after).await?;
                let resources = events
                    .iter()
                    .filter(|e| search.updated_within(&e.event_time))
                    .map(audit_event::audit_event)
                    .collect();
                Ok((resources, next, Facts::patient(patient)))
            }
        }
    }
}

/// `GET /fhir/R4/Patient/{id}/$everything`: the patient, then every resource of the types the caller's
/// role reads, record by record through the chart partition, then the appointments, then the access log,
/// paged; the first page says which types were left out for the role.
pub async fn operation(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    if input.path.get("operation").map(String::as_str) != Some(EVERYTHING) {
        return Err(ApiError::field(
            "operation",
            format!("is not an operation this server serves; it serves {EVERYTHING}"),
        ));
    }
    let search = search::read_everything(input.query.as_deref())?;
    let id = input.path.get("id").map(String::as_str).unwrap_or("");
    let patient = patients::load(&ctx, EntityId::parse(id).ok_or(ApiError::NotFound)?).await?;
    let scope = super::scope(&ctx, &[Some(&patient.id.to_string()), Some(&search.scope().join("&"))]);
    let after = opened(&ctx, &search, &scope)?;
    let reach = Reach::of(&ctx, Some(patient.id)).await?;
    let withheld: Vec<ResourceType> =
        ResourceType::ALL.iter().copied().filter(|t| *t != ResourceType::Patient && !reach.reads(*t)).collect();
    let first_page = after.is_none();
    let clinic = ctx.clinic()?;
    let (mut phase, mut within) = match after {
        None => (Phase::Chart, None),
        Some(position) => Phase::of_position(position)
            .ok_or_else(|| ApiError::field("_cursor", "is not a cursor this search issued"))?,
    };
    let (mut resources, mut facts, mut next) = (Vec::new(), Facts::patient(patient.id), None);
    loop {
        let room = search.count.saturating_sub(resources.len());
        if room == 0 {
            // The page is full where a phase starts: the next one starts there.
            next = Some(phase.position(within));
            break;
        }
        let (more, after_more, more_facts) =
            phase.page(&ctx, &reach, None, &search, patient.id, false, room, within.take()).await?;
        resources.extend(more);
        // Each phase's facts name the patient again.
        facts.resources.extend(more_facts.resources.into_iter().filter(|r| r.kind != "patient"));
        if let Some(position) = after_more {
            next = Some(phase.position(Some(position)));
            break;
        }
        match Phase::ALL.iter().skip_while(|p| **p != phase).nth(1) {
            Some(following) => phase = *following,
            None => break,
        }
    }
    if first_page {
        resources.insert(0, crate::fhir::patient::patient(clinic, &patient));
    }
    let next = super::seal_cursor(&ctx, &scope, next)?;
    let origin = invitations::origin(&ctx)?;
    let path = format!("Patient/{}/{EVERYTHING}", patient.id);
    let mut bundle = searchset(&origin, &path, &search, resources, next.as_deref());
    if first_page && !withheld.is_empty() {
        let names: Vec<&str> = withheld.iter().map(|t| t.as_str()).collect();
        let diagnostics = format!("the {} role does not read {}: left out", ctx.caller.role, names.join(", "));
        let outcome = json!({ "resourceType": "OperationOutcome",
            "issue": [{ "severity": "information", "code": "suppressed", "diagnostics": diagnostics }] });
        if let Some(entries) = bundle["entry"].as_array_mut() {
            entries.push(json!({ "resource": outcome, "search": { "mode": "outcome" } }));
        }
    }
    Ok(Outcome::Read(fhir_reply(&bundle), facts.under(reach.marks)))
}

/// Where the page a search's `_cursor` names starts (none for the first).
fn opened(ctx: &Ctx, search: &Search, scope: &str) -> Result<Option<Item>, ApiError> {
    let Some(sealed) = &search.cursor else { return Ok(None) };
    super::open_cursor(ctx, scope, sealed)
        .map(Some)
        .map_err(|_| ApiError::field("_cursor", "is not a cursor this search issued"))
}

/// A page of resources, where the next page starts, and the audit facts of what was shown.
type Found = (Vec<Value>, Option<Item>, Facts);

/// What one stored item became: its resources (none to leave it out) and what the access log names.
type Shown = (Vec<Value>, Resource);

/// Patients, by the JSON API's search (id, family-name prefix, birth date, record number).
async fn search_patients(ctx: &Ctx, search: &Search, after: Option<Item>) -> Result<Found, ApiError> {
    let clinic = ctx.clinic()?;
    let (found, next) = match search.id {
        Some(id) => match patients::load(ctx, id).await {
            Ok(patient) => (vec![patient], None),
            Err(ApiError::NotFound | ApiError::Gone(_)) => (Vec::new(), None),
            Err(e) => return Err(e),
        },
        None => {
            let by = patients::Search::new(
                search.family.as_deref(),
                search.birthdate.clone(),
                None,
                search.identifier.clone(),
            );
            patients::find(ctx, &by, search.count, after).await?
        }
    };
    let shown: Vec<_> = found.into_iter().filter(|p| search.updated_within(&p.updated_at)).collect();
    let facts = Facts::listing(shown.iter().map(|p| p.id).collect());
    let resources = shown.iter().map(|p| crate::fhir::patient::patient(clinic, p)).collect();
    Ok((resources, next, facts))
}

/// How a scan of a patient's appointments reads each: as an Appointment, if `_lastUpdated` lets it.
fn appointment_resources(search: &Search) -> impl Fn(Item) -> Result<Option<Shown>, ApiError> + '_ {
    |item| {
        let appointment: Appointment = entity_from(item)?;
        let made = if search.updated_within(&crate::fhir::appointment::updated_at(&appointment)) {
            vec![crate::fhir::appointment::appointment(&appointment)]
        } else {
            Vec::new()
        };
        Ok(Some((made, Resource::new("appointment", appointment.id))))
    }
}

/// A page of one of a patient's partitions (their chart, or their appointments' index), read as resources.
struct Scan {
    patient: EntityId,
    partition: String,
    index: Option<Index>,
    /// The sort-key prefix of the items read (all of them if none).
    prefix: Option<String>,
    newest_first: bool,
    /// The most resources a page holds, but an item's resources are never split: its first may exceed it.
    count: usize,
}

impl Scan {
    /// The patient's chart partition, or the part of it under `prefix`.
    fn chart(clinic: EntityId, patient: EntityId, prefix: Option<String>, newest_first: bool, count: usize) -> Self {
        Scan { patient, partition: keys::chart_pk(clinic, patient), index: None, prefix, newest_first, count }
    }

    /// The patient's appointments, by start.
    fn appointments(clinic: EntityId, patient: EntityId, newest_first: bool, count: usize) -> Self {
        let partition = Appointment::patient_index(clinic, patient);
        Scan { patient, partition, index: Some(Index::Gsi1), prefix: None, newest_first, count }
    }

    /// The page after `after`: each item's resources as `read` makes them (none to leave it out; `None` for
    /// an item that is not a record), where the next page starts, and the facts naming the records shown.
    /// A page of rare matches ends after `SCAN_LIMIT` items read, with a position to go on from.
    async fn run(
        &self,
        ctx: &Ctx,
        after: Option<Item>,
        read: impl Fn(Item) -> Result<Option<Shown>, ApiError>,
    ) -> Result<Found, ApiError> {
        let mut resources: Vec<Value> = Vec::new();
        let mut facts = Facts::patient(self.patient);
        // Where the page ends so far: the last item looked at (the cursor it was given, before any).
        let mut last = after.clone();
        let (mut after, mut scanned) = (after, 0);
        loop {
            let mut query = Query::new(Table::Records, self.partition.clone())
                .limit(self.count.min(SCAN_LIMIT - scanned).max(1))
                .start_after(after.take());
            if let Some(prefix) = &self.prefix {
                query = query.sk(SkRange::Prefix(prefix.clone()));
            }
            if let Some(index) = self.index {
                query = query.index(index);
            }
            if self.newest_first {
                query = query.backward();
            }
            let page = ctx.app.records.query(query).await?;
            let count = page.items.len();
            for (i, item) in page.items.into_iter().enumerate() {
                let position = crate::store::position_of(&item, self.index);
                scanned += 1;
                if let Some((made, audited)) = read(item)?
                    && !made.is_empty()
                {
                    if !resources.is_empty() && resources.len() + made.len() > self.count {
                        // It does not fit: the next page starts with it.
                        return Ok((resources, last, facts));
                    }
                    resources.extend(made);
                    facts.resources.push(audited);
                }
                last = Some(position);
                let more = i + 1 < count || page.next.is_some();
                if more && (resources.len() >= self.count || scanned >= SCAN_LIMIT) {
                    return Ok((resources, last, facts));
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok((resources, None, facts)),
            }
        }
    }
}

/// A searchset bundle of `resources` answering `path` (under the FHIR base), with its links.
fn searchset(origin: &str, path: &str, search: &Search, resources: Vec<Value>, next: Option<&str>) -> Value {
    let base = format!("{origin}{BASE_PATH}");
    let query = |cursor: Option<&str>| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &search.given {
            q.append_pair(k, v);
        }
        if let Some(cursor) = cursor {
            q.append_pair("_cursor", cursor);
        }
        let q = q.finish();
        if q.is_empty() { format!("{base}/{path}") } else { format!("{base}/{path}?{q}") }
    };
    let mut links = vec![json!({ "relation": "self", "url": query(None) })];
    if let Some(next) = next {
        links.push(json!({ "relation": "next", "url": query(Some(next)) }));
    }
    let entries: Vec<Value> = resources
        .into_iter()
        .map(|r| {
            let url = format!("{base}/{}/{}", r["resourceType"].as_str().unwrap_or(""), r["id"].as_str().unwrap_or(""));
            json!({ "fullUrl": url, "resource": r, "search": { "mode": "match" } })
        })
        .collect();
    json!({ "resourceType": "Bundle", "type": "searchset", "link": links, "entry": entries })
}
