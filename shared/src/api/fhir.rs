//! The FHIR R4 face: the CapabilityStatement, a resource's read, a type's search and a patient's
//! `$everything`, mapped from the records with the JSON API's roles, tenancy and audit (a FHIR read is a
//! read of the patient's record).

use serde_json::{Value, json};

use super::{chart, invitations, patients};
use crate::domain::audit::Resource;
use crate::domain::chart::Entry;
use crate::domain::keys;
use crate::domain::values::EntityId;
use crate::fhir::search::{self, Search};
use crate::fhir::{BASE_PATH, EVERYTHING, FHIR_JSON, ResourceType, capability, parse_chart_id};
use crate::http::input::Input;
use crate::http::outcome::{Facts, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::store::{Item, Query, SkRange, Table, entity_from};

/// How many chart entries a search reads at most for one page: a page of rare matches ends early, with a
/// link to go on.
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

/// That the caller's role reads the type (as it reads its chart section in the JSON API).
fn ensure_reads(ctx: &Ctx, resource_type: ResourceType) -> Result<(), ApiError> {
    if capability::reads(resource_type, ctx.caller.role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!("the {} role does not read {resource_type}", ctx.caller.role)))
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
    ensure_reads(&ctx, resource_type)?;
    input.params(ctx.route.query)?;
    let id = input.path.get("id").map(String::as_str).unwrap_or("");
    let Some(kind) = resource_type.chart_kind() else {
        let patient = patients::load(&ctx, EntityId::parse(id).ok_or(ApiError::NotFound)?).await?;
        let resource = crate::fhir::patient::patient(ctx.clinic()?, &patient);
        return Ok(Outcome::Read(fhir_reply(&resource).versioned(patient.version), Facts::patient(patient.id)));
    };
    let (patient, entry_id, _) = parse_chart_id(id).ok_or(ApiError::NotFound)?;
    let entry = chart::load(&ctx, kind, patient, entry_id).await?;
    let resource = resource_type.from_entry(&entry).into_iter().find(|r| r["id"] == id).ok_or(ApiError::NotFound)?;
    let facts = Facts::patient(patient).with(kind.as_str(), entry_id);
    Ok(Outcome::Read(fhir_reply(&resource).versioned(entry.version), facts))
}

/// `GET /fhir/R4/{resourceType}?…`: a searchset bundle, newest first, paged by a sealed cursor.
pub async fn search(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let resource_type = resource_type(&input)?;
    ensure_reads(&ctx, resource_type)?;
    let search = search::read(resource_type, input.query.as_deref())?;
    let scope = super::scope(&ctx, &[Some(resource_type.as_str()), Some(&search.scope().join("&"))]);
    let after = opened(&ctx, &search, &scope)?;
    let (resources, next, facts) = match resource_type.chart_kind() {
        None => search_patients(&ctx, &search, after).await?,
        Some(_) => search_chart(&ctx, resource_type, &search, after).await?,
    };
    let next = super::seal_cursor(&ctx, &scope, next)?;
    let bundle = searchset(&invitations::origin(&ctx)?, resource_type.as_str(), &search, resources, next.as_deref());
    Ok(Outcome::Read(fhir_reply(&bundle), facts))
}

/// `GET /fhir/R4/Patient/{id}/$everything`: the patient, then every chart resource of the types the
/// caller's role reads, kind by kind, paged; the first page says which types were left out for the role.
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
    let (readable, withheld): (Vec<ResourceType>, Vec<ResourceType>) = ResourceType::ALL
        .iter()
        .copied()
        .filter(|t| t.chart_kind().is_some())
        .partition(|t| capability::reads(*t, ctx.caller.role));
    let first_page = after.is_none();
    let scan = Scan {
        patient: patient.id,
        prefix: keys::CHART_ENTRY_PREFIX.to_string(),
        newest_first: false,
        count: search.count,
    };
    let (mut resources, next, facts) = scan
        .run(&ctx, after, |entry| match ResourceType::of_kind(entry.kind) {
            Some(t) if entry.is_valid() && readable.contains(&t) => t.from_entry(entry),
            _ => Vec::new(),
        })
        .await?;
    if first_page {
        resources.insert(0, crate::fhir::patient::patient(ctx.clinic()?, &patient));
    }
    let next = super::seal_cursor(&ctx, &scope, next)?;
    let path = format!("Patient/{}/{EVERYTHING}", patient.id);
    let mut bundle = searchset(&invitations::origin(&ctx)?, &path, &search, resources, next.as_deref());
    if first_page && !withheld.is_empty() {
        let names: Vec<&str> = withheld.iter().map(|t| t.as_str()).collect();
        let diagnostics = format!("the {} role does not read {}: left out", ctx.caller.role, names.join(", "));
        let outcome = json!({ "resourceType": "OperationOutcome",
            "issue": [{ "severity": "information", "code": "suppressed", "diagnostics": diagnostics }] });
        if let Some(entries) = bundle["entry"].as_array_mut() {
            entries.push(json!({ "resource": outcome, "search": { "mode": "outcome" } }));
        }
    }
    Ok(Outcome::Read(fhir_reply(&bundle), facts))
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

/// Patients, by the JSON API's search (id, family-name prefix, birth date, record number).
async fn search_patients(ctx: &Ctx, search: &Search, after: Option<Item>) -> Result<Found, ApiError> {
    let clinic = ctx.clinic()?;
    let (found, next) = match search.id {
        Some(id) => match patients::load(ctx, id).await {
            Ok(patient) => (vec![patient], None),
            Err(ApiError::NotFound) => (Vec::new(), None),
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

/// One patient's chart entries of the type's kind, newest first, as resources.
async fn search_chart(
    ctx: &Ctx,
    resource_type: ResourceType,
    search: &Search,
    after: Option<Item>,
) -> Result<Found, ApiError> {
    let kind = resource_type.chart_kind().ok_or(ApiError::NotFound)?;
    let patient = search.patient.ok_or_else(|| ApiError::field("patient", "is required"))?;
    patients::load(ctx, patient).await?;
    let scan =
        Scan { patient, prefix: keys::chart_kind_prefix(kind.key_prefix()), newest_first: true, count: search.count };
    scan.run(ctx, after, |entry| {
        if entry.is_valid() && search.updated_within(&entry.updated_at) {
            resource_type.from_entry(entry)
        } else {
            Vec::new()
        }
    })
    .await
}

/// A page of one patient's chart, read as resources.
struct Scan {
    patient: EntityId,
    /// The sort-key prefix of the entries read (one kind's, or every kind's).
    prefix: String,
    newest_first: bool,
    /// The most resources a page holds, but an entry is never split: its first may exceed it.
    count: usize,
}

impl Scan {
    /// The page after `after`: each entry's resources as `read` makes them (none to leave it out), where the
    /// next page starts, and the facts naming the entries shown. A page of rare matches ends after
    /// `SCAN_LIMIT` entries read, with a position to go on from.
    async fn run(
        &self,
        ctx: &Ctx,
        after: Option<Item>,
        read: impl Fn(&Entry) -> Vec<Value>,
    ) -> Result<Found, ApiError> {
        let pk = keys::chart_pk(ctx.clinic()?, self.patient);
        let mut resources: Vec<Value> = Vec::new();
        let mut facts = Facts::patient(self.patient);
        // Where the page ends so far: the last entry looked at (the cursor it was given, before any).
        let mut last = after.clone();
        let (mut after, mut scanned) = (after, 0);
        loop {
            let mut query = Query::new(Table::Records, pk.clone())
                .sk(SkRange::Prefix(self.prefix.clone()))
                .limit(self.count.min(SCAN_LIMIT - scanned).max(1))
                .start_after(after.take());
            if self.newest_first {
                query = query.backward();
            }
            let page = ctx.app.records.query(query).await?;
            let count = page.items.len();
            for (i, item) in page.items.into_iter().enumerate() {
                let position = crate::store::position_of(&item, None);
                let entry: Entry = entity_from(item)?;
                scanned += 1;
                let made = read(&entry);
                if !made.is_empty() {
                    if !resources.is_empty() && resources.len() + made.len() > self.count {
                        // It does not fit: the next page starts with it.
                        return Ok((resources, last, facts));
                    }
                    resources.extend(made);
                    facts.resources.push(Resource::new(entry.kind.as_str(), entry.id));
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
