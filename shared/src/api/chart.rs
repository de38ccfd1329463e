//! The patient chart: create, read, list, change, entered-in-error and history for every kind of entry,
//! note signing, and the chart summary. Every change is a new version; nothing is overwritten or deleted.

use serde_json::{Value, json};

use super::break_glass;
use super::chart_guard::ChartChange;
use super::patients;
use super::safety;
use super::{page_body, scope, start_after};
use crate::domain::audit::Resource;
use crate::domain::break_glass::{BREAKERS, BreakGlass, Scope};
use crate::domain::chart::treatment::Treatment;
use crate::domain::chart::{ChartKind, Data, EnteredInError, Entry, Source, Stamp, summary};
use crate::domain::fields::{Form, merge_patch};
use crate::domain::keys;
use crate::domain::role::Role;
use crate::domain::safety::Chart;
use crate::domain::safety::gate::{ACKNOWLEDGEMENTS, Acknowledgement};
use crate::domain::safety::rules::RULES;
use crate::domain::staff::{StaffMember, StaffStatus};
use crate::domain::values::{EntityId, ShortText, UserId};
use crate::http::input::{Input, at_version, read_form};
use crate::http::outcome::{Facts, Guarded, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::http::routes;
use crate::store::schema::{PK, SK};
use crate::store::{Cond, Item, Key, Query, SkRange, Table, Write, entity_from};

/// The kind of entry the route serves.
fn kind_of(ctx: &Ctx) -> Result<ChartKind, ApiError> {
    ctx.route.chart.ok_or_else(|| ApiError::Internal(format!("{} serves no chart kind", ctx.route.name)))
}

/// The audit facts of a call about one entry.
fn entry_facts(patient: EntityId, kind: ChartKind, entry: EntityId) -> Facts {
    Facts::patient(patient).with(kind.as_str(), entry)
}

fn location(kind: ChartKind, patient: EntityId, entry: EntityId) -> String {
    let segment = routes::chart_route(kind, "read").map_or("", |r| r.path.rsplit('/').nth(1).unwrap_or(""));
    format!("/v1/patients/{patient}/{segment}/{entry}")
}

/// Reads every page of a query of the app's records (see `store::query_all`).
pub async fn query_all(ctx: &Ctx, query: Query) -> Result<Vec<Item>, ApiError> {
    Ok(crate::store::query_all(ctx.app.records.as_ref(), query).await?)
}

/// The current version of an entry of the caller's clinic; anything else is not found.
pub(crate) async fn load(ctx: &Ctx, kind: ChartKind, patient: EntityId, id: EntityId) -> Result<Entry, ApiError> {
    let clinic = ctx.clinic()?;
    let key = Key::new(keys::chart_pk(clinic, patient), keys::chart_entry_sk(kind.key_prefix(), id));
    let item = ctx.app.records.get(Table::Records, &key).await?.ok_or(ApiError::NotFound)?;
    Ok(entity_from(item)?)
}

/// The patient's valid entries of one kind, with those this request adds, but for `this` one.
async fn current_of(
    ctx: &Ctx,
    kind: ChartKind,
    change: &ChartChange,
    this: Option<&Entry>,
) -> Result<Vec<Entry>, ApiError> {
    let query = Query::new(Table::Records, keys::chart_pk(ctx.clinic()?, change.patient))
        .sk(SkRange::Prefix(keys::chart_kind_prefix(kind.key_prefix())))
        .limit(100);
    let mut entries: Vec<Entry> =
        query_all(ctx, query).await?.into_iter().map(entity_from).collect::<Result<_, _>>()?;
    entries.extend(change.added.iter().filter(|e| e.kind == kind).cloned());
    Ok(entries.into_iter().filter(|e| e.is_valid() && this.is_none_or(|t| t.id != e.id)).collect())
}

fn is_active_no_known_allergies(data: &Data) -> bool {
    data.get("noKnownAllergies") == Some(&Value::Bool(true)) && data.get("status") == Some(&json!("active"))
}

/// Rules that need the rest of the chart or the clinic: they hold for a new entry and for every new version
/// (`this` is the version changed, `source` where the new content came from). Those that span entries read
/// their guard first (see `chart_guard`).
async fn check_against_chart(
    ctx: &Ctx,
    kind: ChartKind,
    change: &mut ChartChange,
    data: &mut Data,
    this: Option<&Entry>,
    source: &Source,
) -> Result<(), ApiError> {
    let patient = change.patient;
    match kind {
        ChartKind::Allergy if is_active_no_known_allergies(data) => {
            change.before_checking(ctx, kind).await?;
            let recorded = current_of(ctx, kind, change, this).await?;
            if recorded
                .iter()
                .any(|e| e.data.get("status") == Some(&json!("active")) && !is_active_no_known_allergies(&e.data))
            {
                return Err(ApiError::Conflict(
                    "the chart holds active allergies: mark them resolved or entered-in-error before recording no known allergies"
                        .into(),
                ));
            }
        }
        ChartKind::Allergy => change.moves(kind),
        ChartKind::AestheticProfile if this.is_none() => {
            change.before_checking(ctx, kind).await?;
            let existing = current_of(ctx, kind, change, None).await?;
            if !existing.is_empty() {
                return Err(ApiError::Conflict(
                    "the patient already has an aesthetic profile: change it with PATCH instead".into(),
                ));
            }
        }
        ChartKind::Note => {
            let target = data.get("addendumTo").and_then(Value::as_str).and_then(EntityId::parse);
            if let Some(target) = target {
                let unchanged = this.is_some_and(|t| t.text("addendumTo") == Some(target.to_string().as_str()));
                if this.is_some() && !unchanged {
                    return Err(ApiError::field_rule("addendumTo", "cannot change: an addendum stays with its note"));
                }
                if this.is_none() {
                    let signed = match load(ctx, ChartKind::Note, patient, target).await {
                        Ok(note) => note.is_valid() && note.signed.is_some(),
                        Err(ApiError::NotFound) => {
                            return Err(ApiError::unknown("addendumTo", "names no note of this patient"));
                        }
                        Err(e) => return Err(e),
                    };
                    if !signed {
                        return Err(ApiError::field_rule(
                            "addendumTo",
                            "must name a signed note that is not entered-in-error: a draft is still edited directly",
                        ));
                    }
                }
            } else if this.is_some_and(|t| t.text("addendumTo").is_some()) {
                return Err(ApiError::field_rule("addendumTo", "cannot be removed: an addendum stays with its note"));
            }
        }
        ChartKind::Treatment => {
            // The caller performed a treatment they chart unless it says who did. One imported, or performed
            // by someone who is not a member of the clinic, names no member unless it says so.
            let named = |d: &Data| d.contains_key("practitionerId") || d.contains_key("externalPractitioner");
            let by_caller = match this {
                None => source == &Source::StaffEntered,
                Some(before) => before.data.contains_key("practitionerId"),
            };
            if by_caller && !named(data) {
                data.insert("practitionerId".into(), ctx.caller.user.as_str().into());
            }
            // Checked when the treatment is charted and when its practitioner changes: one who has left
            // since does not stop the record from being corrected.
            if let Some(practitioner) = data.get("practitionerId").and_then(Value::as_str)
                && this.and_then(|t| t.text("practitionerId")) != Some(practitioner)
            {
                check_practitioner(ctx, practitioner).await?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The practitioner of a treatment is an active member of the clinic who may treat.
async fn check_practitioner(ctx: &Ctx, user: &str) -> Result<(), ApiError> {
    let user = <UserId as crate::domain::fields::ParseStr>::parse_str(user, &ctx.rules())
        .map_err(|m| ApiError::field_rule("practitionerId", m))?;
    let key = Key::new(keys::clinic_pk(ctx.clinic()?), keys::staff_sk(&user));
    let member = match ctx.app.records.get(Table::Records, &key).await? {
        Some(item) => Some(entity_from::<StaffMember>(item)?),
        None => None,
    };
    let treats =
        member.is_some_and(|m| m.status == StaffStatus::Active && matches!(m.role, Role::Practitioner | Role::Nurse));
    if treats {
        Ok(())
    } else {
        Err(ApiError::unsuitable("practitionerId", "must be an active practitioner or nurse of this clinic"))
    }
}

/// The lot-recall index items of a treatment: one per product line, none once it is entered-in-error.
fn lot_uses(clinic: EntityId, entry: &Entry) -> Result<Vec<Item>, ApiError> {
    if entry.kind != ChartKind::Treatment || !entry.is_valid() {
        return Ok(Vec::new());
    }
    let treatment: Treatment = serde_json::from_value(Value::Object(entry.data.clone()))
        .map_err(|_| ApiError::Internal(format!("stored treatment {} is unreadable", entry.id)))?;
    let performed_at = treatment.performed_at.as_str();
    let practitioner = treatment.practitioner_id.as_ref().map(UserId::as_str);
    let mut items = Vec::new();
    for (line, product) in treatment.products.iter().enumerate() {
        let mut item = Item::new();
        item.insert(PK.into(), keys::lot_pk(clinic, &product.lot_number.folded()).into());
        item.insert(SK.into(), keys::lot_use_sk(performed_at, entry.id, line).into());
        let fields = json!({
            "patientId": entry.patient_id,
            "treatmentId": entry.id,
            "treatmentType": treatment.treatment_type,
            "performedAt": performed_at,
            "practitionerId": practitioner,
            "product": product.product,
            "manufacturer": product.manufacturer,
            "lotNumber": product.lot_number,
            "expiryDate": product.expiry_date,
            "quantity": product.quantity,
        });
        if let Value::Object(map) = fields {
            item.extend(map);
        }
        items.push(item);
    }
    Ok(items)
}

fn key_of(item: &Item) -> Key {
    let text = |name: &str| item.get(name).and_then(Value::as_str).unwrap_or("").to_string();
    Key::new(text(PK), text(SK))
}

/// The writes that take the recall index from `before` to `after`: stale uses removed, current ones written.
fn lot_writes(clinic: EntityId, before: Option<&Entry>, after: &Entry) -> Result<Vec<Guarded>, ApiError> {
    let old = match before {
        Some(entry) => lot_uses(clinic, entry)?,
        None => Vec::new(),
    };
    let new = lot_uses(clinic, after)?;
    let new_keys: Vec<Key> = new.iter().map(key_of).collect();
    let conflict = || ApiError::Conflict("a concurrent change interfered; nothing was written; retry".into());
    let mut writes: Vec<Guarded> = old
        .iter()
        .map(key_of)
        .filter(|k| !new_keys.contains(k))
        .map(|key| Guarded::new(Write::Delete { table: Table::Records, key, cond: Cond::Always }, conflict()))
        .collect();
    writes.extend(new.into_iter().map(|item| Guarded::new(Write::put(Table::Records, item, Cond::Always), conflict())));
    Ok(writes)
}

/// The writes of a new version: the current item (guarded by the version it replaces), its history copy,
/// and the recall index.
fn version_writes(ctx: &Ctx, before: Option<&Entry>, after: &Entry) -> Result<Vec<Guarded>, ApiError> {
    let clinic = ctx.clinic()?;
    let (cond, on_fail) = match before {
        Some(b) => (Cond::VersionIs(b.version), ApiError::PreconditionFailed),
        None => (Cond::NotExists, ApiError::Conflict("an id collided; retry".into())),
    };
    let mut writes = vec![
        Guarded::new(Write::put(Table::Records, after.current_item(clinic), cond), on_fail),
        Guarded::new(
            Write::put(Table::Records, after.history_item(clinic), Cond::NotExists),
            ApiError::Conflict("this version was written by a concurrent change; reload and retry".into()),
        ),
    ];
    writes.extend(lot_writes(clinic, before, after)?);
    if let Some(record) = &after.safety {
        writes.extend(safety::override_writes(clinic, safety::Target::entry(after), record, &after.updated_at));
    }
    Ok(writes)
}

/// The audit facts of a new version: the entry, and the safety alerts it acknowledged.
fn version_facts(entry: &Entry) -> Facts {
    let mut facts = entry_facts(entry.patient_id, entry.kind, entry.id);
    if let Some(record) = &entry.safety {
        facts.resources.extend(safety::override_resources(record, &entry.updated_at));
    }
    facts
}

/// `POST /v1/patients/{patientId}/<kind>`
pub async fn create(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let kind = kind_of(&ctx)?;
    let patient = input.entity("patientId")?;
    let (data, source, acknowledged) = input.form(ctx.rules(), |form: &Form<'_>| read_new(kind, form))?;
    patients::load(&ctx, patient).await?;
    let mut change = ChartChange::new(ctx.clinic()?, patient);
    let (entry, mut writes) = new_entry(&ctx, &mut change, kind, data, source, acknowledged).await?;
    writes.extend(change.guard_writes());
    let reply = Reply::created(entry.to_json(), location(kind, patient, entry.id)).versioned(1);
    Ok(Outcome::Write(writes, reply, version_facts(&entry)))
}

/// What a create body of `kind` says: the entry's data, its source (staff-entered by default) and the safety
/// alerts it acknowledges.
pub fn read_new(kind: ChartKind, form: &Form<'_>) -> Option<(Data, Source, Vec<Acknowledgement>)> {
    let source = form.object("source", false, Source::read);
    let acknowledged = if kind.is_safety_checked() { Acknowledgement::read_all(form) } else { Some(Vec::new()) };
    let data = kind.read_new(form);
    Some((data?, source.unwrap_or(Source::StaffEntered), acknowledged?))
}

/// A new entry of the change's patient (known to exist), after the rules that need the rest of the chart
/// and the safety gate (with the alerts `acknowledged`), and its writes; the change's guard writes are the
/// caller's to add, once for the whole request.
pub async fn new_entry(
    ctx: &Ctx,
    change: &mut ChartChange,
    kind: ChartKind,
    mut data: Data,
    source: Source,
    acknowledged: Vec<Acknowledgement>,
) -> Result<(Entry, Vec<Guarded>), ApiError> {
    check_against_chart(ctx, kind, change, &mut data, None, &source).await?;
    let now = ctx.now_text();
    let mut entry = Entry {
        id: ctx.new_id(),
        kind,
        patient_id: change.patient,
        version: 1,
        data,
        source,
        recorded_by: ctx.actor(),
        recorded_at: now.clone(),
        updated_by: ctx.actor(),
        updated_at: now,
        signed: None,
        entered_in_error: None,
        safety: None,
    };
    entry.safety = safety::gate(ctx, &entry, acknowledged, None, &change.added).await?;
    let writes = version_writes(ctx, None, &entry)?;
    change.added.push(entry.clone());
    Ok((entry, writes))
}

/// `GET /v1/patients/{patientId}/<kind>/{entryId}`
pub async fn read(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let kind = kind_of(&ctx)?;
    let (patient, id) = (input.entity("patientId")?, input.entity("entryId")?);
    let entry = load(&ctx, kind, patient, id).await?;
    Ok(Outcome::Read(Reply::ok(entry.to_json()).versioned(entry.version), entry_facts(patient, kind, id)))
}

/// `GET /v1/patients/{patientId}/<kind>?includeEnteredInError=&limit=&cursor=`, newest first.
pub async fn list(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let kind = kind_of(&ctx)?;
    let patient = input.entity("patientId")?;
    let params = input.params(ctx.route.query)?;
    let include_errors = match params.get("includeEnteredInError") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::field("includeEnteredInError", "must be true or false")),
    };
    let limit = params.limit()?;
    let scope = scope(&ctx, &[Some(&patient.to_string()), Some(if include_errors { "all" } else { "valid" })]);
    let after = start_after(&ctx, &params, &scope)?;
    patients::load(&ctx, patient).await?;
    let query = Query::new(Table::Records, keys::chart_pk(ctx.clinic()?, patient))
        .sk(SkRange::Prefix(keys::chart_kind_prefix(kind.key_prefix())))
        .backward()
        .limit(limit)
        .start_after(after);
    let page = ctx.app.records.query(query).await?;
    let entries: Vec<Entry> = page.items.into_iter().map(entity_from).collect::<Result<_, _>>()?;
    let shown: Vec<&Entry> = entries.iter().filter(|e| include_errors || e.is_valid()).collect();
    let mut facts = Facts::patient(patient);
    facts.resources.extend(shown.iter().map(|e| Resource::new(kind.as_str(), e.id)));
    let body = page_body(&ctx, &scope, shown.iter().map(|e| e.to_json()).collect(), page.next)?;
    Ok(Outcome::Read(Reply::ok(body), facts))
}

/// `GET /v1/patients/{patientId}/<kind>/{entryId}/history`, oldest version first.
pub async fn history(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let kind = kind_of(&ctx)?;
    let (patient, id) = (input.entity("patientId")?, input.entity("entryId")?);
    let params = input.params(ctx.route.query)?;
    let limit = params.limit()?;
    let scope = scope(&ctx, &[Some(&patient.to_string()), Some(&id.to_string())]);
    let after = start_after(&ctx, &params, &scope)?;
    let resumed = after.is_some();
    let query = Query::new(Table::Records, keys::chart_history_pk(ctx.clinic()?, patient))
        .sk(SkRange::Prefix(keys::chart_history_prefix(kind.key_prefix(), id)))
        .limit(limit)
        .start_after(after);
    let page = ctx.app.records.query(query).await?;
    if page.items.is_empty() && !resumed {
        return Err(ApiError::NotFound);
    }
    let versions: Vec<Value> =
        page.items.into_iter().map(|item| entity_from::<Entry>(item).map(|e| e.to_json())).collect::<Result<_, _>>()?;
    let body = page_body(&ctx, &scope, versions, page.next)?;
    Ok(Outcome::Read(Reply::ok(body), entry_facts(patient, kind, id)))
}

/// Loads the entry a change names, checking that it may still change (the caller checks `If-Match`
/// once it has read the body).
async fn changeable(ctx: &Ctx, input: &Input) -> Result<(ChartKind, EntityId, Entry), ApiError> {
    let kind = kind_of(ctx)?;
    let (patient, id) = (input.entity("patientId")?, input.entity("entryId")?);
    let current = load(ctx, kind, patient, id).await?;
    if !current.is_valid() {
        return Err(ApiError::Conflict("this entry is marked entered-in-error: record a new entry instead".into()));
    }
    if kind == ChartKind::Note && current.recorded_by.user_id != ctx.caller.user {
        return Err(ApiError::Forbidden("only the author of a note may change, sign or retract it".into()));
    }
    Ok((kind, patient, current))
}

/// A new version of `current`, made by the caller now.
fn next_version(ctx: &Ctx, current: &Entry) -> Entry {
    Entry { version: current.version + 1, updated_by: ctx.actor(), updated_at: ctx.now_text(), ..current.clone() }
}

/// Writes a new version, with the guard writes of the rules it was checked against.
fn write_version(ctx: &Ctx, current: &Entry, next: Entry, guards: Vec<Guarded>) -> Result<Outcome, ApiError> {
    let mut writes = version_writes(ctx, Some(current), &next)?;
    writes.extend(guards);
    Ok(Outcome::Write(writes, Reply::ok(next.to_json()).versioned(next.version), version_facts(&next)))
}

/// `PATCH /v1/patients/{patientId}/<kind>/{entryId}` with a JSON merge patch of the content.
pub async fn update(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let mut patch = input.json(&["application/merge-patch+json", "application/json"])?;
    if !patch.is_object() {
        return Err(ApiError::field("", "the body must be a JSON object (a merge patch)"));
    }
    // Acknowledgements of safety alerts go with this change, not into the entry's content.
    let acknowledged = match patch.as_object_mut().filter(|_| kind_of(&ctx).is_ok_and(ChartKind::is_safety_checked)) {
        Some(fields) => match fields.remove(ACKNOWLEDGEMENTS) {
            Some(list) => {
                let body = Value::Object([(ACKNOWLEDGEMENTS.to_string(), list)].into_iter().collect());
                read_form(&body, ctx.rules(), Acknowledgement::read_all)?
            }
            None => Vec::new(),
        },
        None => Vec::new(),
    };
    let expected = input.if_match()?;
    let (kind, patient, current) = changeable(&ctx, &input).await?;
    if current.signed.is_some() {
        return Err(ApiError::Conflict(
            "a signed note never changes: write an addendum (a new note with addendumTo) instead".into(),
        ));
    }
    let mut doc = Value::Object(current.data.clone());
    merge_patch(&mut doc, &patch);
    let mut data = read_form(&doc, ctx.rules(), |form| kind.read(form))?;
    at_version(expected, current.version)?;
    let mut change = ChartChange::new(ctx.clinic()?, patient);
    check_against_chart(&ctx, kind, &mut change, &mut data, Some(&current), &Source::StaffEntered).await?;
    let mut next = Entry { data, source: Source::StaffEntered, ..next_version(&ctx, &current) };
    // A change to what the check looks at is checked again; the alerts acknowledged before stay so.
    if !acknowledged.is_empty() || safety::checked_part(&current) != safety::checked_part(&next) {
        next.safety = safety::gate(&ctx, &next, acknowledged, Some(&current), &[]).await?;
    }
    write_version(&ctx, &current, next, change.guard_writes())
}

/// `POST /v1/patients/{patientId}/<kind>/{entryId}/entered-in-error` with `{"reason": ...}`.
pub async fn invalidate(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let reason: ShortText = input.form(ctx.rules(), |form| {
        form.only(&["reason"]);
        form.req("reason")
    })?;
    let expected = input.if_match()?;
    let (_, _, current) = changeable(&ctx, &input).await?;
    at_version(expected, current.version)?;
    let stamp = EnteredInError { reason, by: ctx.actor(), at: ctx.now_text() };
    let next = Entry { entered_in_error: Some(stamp), ..next_version(&ctx, &current) };
    write_version(&ctx, &current, next, Vec::new())
}

/// `POST /v1/patients/{patientId}/notes/{entryId}/sign`: the author makes a draft final.
pub async fn sign(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    if !input.body.is_empty() {
        input.form(ctx.rules(), |form| {
            form.only(&[]);
            Some(())
        })?;
    }
    let expected = input.if_match()?;
    let (_, _, current) = changeable(&ctx, &input).await?;
    at_version(expected, current.version)?;
    if current.signed.is_some() {
        return Err(ApiError::Conflict("this note is already signed".into()));
    }
    let next = Entry { signed: Some(Stamp { by: ctx.actor(), at: ctx.now_text() }), ..next_version(&ctx, &current) };
    write_version(&ctx, &current, next, Vec::new())
}

/// The current version of every entry of a patient's chart: one query of the chart partition.
pub async fn current_entries(ctx: &Ctx, patient_id: EntityId) -> Result<Vec<Entry>, ApiError> {
    let query = Query::new(Table::Records, keys::chart_pk(ctx.clinic()?, patient_id))
        .sk(SkRange::Prefix(keys::CHART_ENTRY_PREFIX.into()))
        .limit(1000);
    let mut entries = Vec::new();
    for item in query_all(ctx, query).await? {
        let is_entry = item.get(SK).and_then(Value::as_str).and_then(ChartKind::of_sort_key).is_some();
        if is_entry {
            entries.push(entity_from::<Entry>(item)?);
        }
    }
    Ok(entries)
}

/// `GET /v1/patients/{patientId}/chart`: the summary of the current entries.
pub async fn summary(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let patient_id = input.entity("patientId")?;
    let patient = patients::load(&ctx, patient_id).await?;
    let entries = current_entries(&ctx, patient_id).await?;
    let role = ctx.caller.role;
    let role_reads = |kind: ChartKind| routes::reads_chart(kind, role);
    // Sections the role does not read show under the caller's open break-glass for them.
    let mut opened = Vec::new();
    if BREAKERS.contains(&role) && ChartKind::ALL.iter().any(|k| !role_reads(*k)) {
        opened = break_glass::open_now(&ctx, patient_id).await?;
        opened.retain(|g| matches!(g.scope, Scope::Chart(kind) if !role_reads(kind)));
    }
    let may_read = |kind: ChartKind| role_reads(kind) || opened.iter().any(|g| g.scope == Scope::Chart(kind));
    let mut body = summary::build(patient.summary(), &entries, may_read);
    // The standing alerts whose every fact is in a section the caller sees.
    let standing = crate::domain::safety::standing(&RULES, &Chart::of(&entries), ctx.now.date_naive());
    let shown: Vec<_> = standing.into_iter().filter(|a| a.facts.iter().all(|f| may_read(f.kind))).collect();
    body["standingAlerts"] = json!(shown);
    let facts =
        Facts::patient(patient_id).with("chart", patient_id).under(opened.iter().map(BreakGlass::mark).collect());
    Ok(Outcome::Read(Reply::ok(body), facts))
}
