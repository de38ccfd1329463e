//! The clinic's catalogue for its calendar: rooms and devices (`/v1/resources`) and services
//! (`/v1/services`). Administrators write them, every staff member reads them; each change names the
//! version it read (`If-Match`), and nothing is deleted: a retired entry stays for the record.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{map_items, page_body, scope, start_after};
use crate::domain::fields::{Form, merge_patch};
use crate::domain::keys;
use crate::domain::role::Role;
use crate::domain::scheduling::CatalogueStatus;
use crate::domain::scheduling::resource::{Resource, ResourceDetails};
use crate::domain::scheduling::service::{Service, ServiceDetails};
use crate::domain::staff::{StaffMember, StaffStatus};
use crate::domain::values::EntityId;
use crate::http::input::{Input, read_form};
use crate::http::outcome::{Facts, Guarded, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::store::{Cond, Item, Key, Query, SkRange, Table, Write, entity_from};

/// One kind of catalogue entry.
trait Entry: Serialize + DeserializeOwned + Sized {
    type Details: Serialize;
    /// Its sort-key prefix in the clinic's partition.
    const PREFIX: &'static str;
    /// Its path parameter, its collection's path, and its type in audit events.
    const PARAM: &'static str;
    const PATH: &'static str;
    const NOUN: &'static str;

    fn read_details(form: &Form<'_>) -> Option<Self::Details>;
    fn build(id: EntityId, details: Self::Details, updated_at: String, version: u64) -> Self;
    fn id(&self) -> EntityId;
    fn version(&self) -> u64;
    fn details(&self) -> &Self::Details;
    fn key(clinic: EntityId, id: EntityId) -> Key;
    fn to_item(&self, clinic: EntityId) -> Item;
    /// What the rest of the clinic must hold for these details to be valid (422 otherwise).
    async fn check(ctx: &Ctx, details: &Self::Details) -> Result<(), ApiError>;
}

impl Entry for Resource {
    type Details = ResourceDetails;
    const PREFIX: &'static str = keys::RESOURCE_PREFIX;
    const PARAM: &'static str = "resourceId";
    const PATH: &'static str = "/v1/resources";
    const NOUN: &'static str = "resource";

    fn read_details(form: &Form<'_>) -> Option<ResourceDetails> {
        ResourceDetails::read(form)
    }
    fn build(id: EntityId, details: ResourceDetails, updated_at: String, version: u64) -> Self {
        Resource { id, details, updated_at, version }
    }
    fn id(&self) -> EntityId {
        self.id
    }
    fn version(&self) -> u64 {
        self.version
    }
    fn details(&self) -> &ResourceDetails {
        &self.details
    }
    fn key(clinic: EntityId, id: EntityId) -> Key {
        Resource::key(clinic, id)
    }
    fn to_item(&self, clinic: EntityId) -> Item {
        Resource::to_item(self, clinic)
    }
    async fn check(_ctx: &Ctx, _details: &ResourceDetails) -> Result<(), ApiError> {
        Ok(())
    }
}

impl Entry for Service {
    type Details = ServiceDetails;
    const PREFIX: &'static str = keys::SERVICE_PREFIX;
    const PARAM: &'static str = "serviceId";
    const PATH: &'static str = "/v1/services";
    const NOUN: &'static str = "service";

    fn read_details(form: &Form<'_>) -> Option<ServiceDetails> {
        ServiceDetails::read(form)
    }
    fn build(id: EntityId, details: ServiceDetails, updated_at: String, version: u64) -> Self {
        Service { id, details, updated_at, version }
    }
    fn id(&self) -> EntityId {
        self.id
    }
    fn version(&self) -> u64 {
        self.version
    }
    fn details(&self) -> &ServiceDetails {
        &self.details
    }
    fn key(clinic: EntityId, id: EntityId) -> Key {
        Service::key(clinic, id)
    }
    fn to_item(&self, clinic: EntityId) -> Item {
        Service::to_item(self, clinic)
    }

    /// An active service needs active resources, active clinical staff and the clinic's own templates.
    async fn check(ctx: &Ctx, details: &ServiceDetails) -> Result<(), ApiError> {
        if details.status == CatalogueStatus::Retired {
            return Ok(());
        }
        let clinic = ctx.clinic()?;
        for id in &details.resource_ids {
            let resource: Option<Resource> = load_item(ctx, Resource::key(clinic, *id)).await?;
            match resource {
                None => {
                    return Err(ApiError::field_rule("resourceIds", format!("{id} is not a resource of the clinic")));
                }
                Some(r) if r.details.status == CatalogueStatus::Retired => {
                    return Err(ApiError::field_rule("resourceIds", format!("{id} is retired")));
                }
                Some(_) => {}
            }
        }
        for user in &details.performed_by.staff {
            let key = Key::new(keys::clinic_pk(clinic), keys::staff_sk(user));
            let member: Option<StaffMember> = load_item(ctx, key).await?;
            let performs = member
                .is_some_and(|m| m.status == StaffStatus::Active && matches!(m.role, Role::Practitioner | Role::Nurse));
            if !performs {
                let message = format!("{user} is not an active practitioner or nurse of the clinic");
                return Err(ApiError::field_rule("performedBy.staff", message));
            }
        }
        for template in &details.form_template_ids {
            if super::forms::latest(ctx, template).await?.is_none() {
                let message = format!("{template} is not one of the clinic's form templates");
                return Err(ApiError::field_rule("formTemplateIds", message));
            }
        }
        Ok(())
    }
}

async fn load_item<T: DeserializeOwned>(ctx: &Ctx, key: Key) -> Result<Option<T>, ApiError> {
    Ok(ctx.app.records.get(Table::Records, &key).await?.map(entity_from).transpose()?)
}

async fn create<E: Entry>(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let details = input.form(ctx.rules(), E::read_details)?;
    E::check(&ctx, &details).await?;
    let entry = E::build(ctx.new_id(), details, ctx.now_text(), 1);
    let write = Write::put(Table::Records, entry.to_item(ctx.clinic()?), Cond::NotExists);
    let collision = ApiError::Conflict("a concurrent request interfered; retry".into());
    let location = format!("{}/{}", E::PATH, entry.id());
    let reply = Reply::created(json!(entry), location).versioned(1);
    Ok(Outcome::Write(vec![Guarded::new(write, collision)], reply, Facts::resource(E::NOUN, entry.id())))
}

async fn list<E: Entry>(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let params = input.params(ctx.route.query)?;
    let status = params.parsed::<CatalogueStatus>("status", &ctx.rules())?;
    let scope = scope(&ctx, &[status.map(CatalogueStatus::as_str)]);
    let query = Query::new(Table::Records, keys::clinic_pk(ctx.clinic()?))
        .sk(SkRange::Prefix(E::PREFIX.into()))
        .limit(params.limit()?)
        .start_after(start_after(&ctx, &params, &scope)?);
    let page = ctx.app.records.query(query).await?;
    let entries = map_items(&page, |item| Ok(json!(entity_from::<E>(item.clone())?)))?;
    let wanted = |e: &Value| status.is_none_or(|s| e["status"] == s.as_str());
    let body = page_body(&ctx, &scope, entries.into_iter().filter(wanted).collect(), page.next)?;
    Ok(Outcome::Read(Reply::ok(body), Facts::none()))
}

async fn load<E: Entry>(ctx: &Ctx, input: &Input) -> Result<E, ApiError> {
    let id = input.entity(E::PARAM)?;
    load_item(ctx, E::key(ctx.clinic()?, id)).await?.ok_or(ApiError::NotFound)
}

async fn read<E: Entry>(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let entry: E = load(&ctx, &input).await?;
    let reply = Reply::ok(json!(entry)).versioned(entry.version());
    Ok(Outcome::Read(reply, Facts::resource(E::NOUN, entry.id())))
}

/// A JSON merge patch of the details, on the version `If-Match` names.
async fn update<E: Entry>(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let patch = input.json(&["application/merge-patch+json", "application/json"])?;
    if !patch.is_object() {
        return Err(ApiError::field("", "the body must be a JSON object (a merge patch)"));
    }
    let expected = input.if_match()?;
    let current: E = load(&ctx, &input).await?;
    if current.version() != expected {
        return Err(ApiError::PreconditionFailed);
    }
    let mut doc = serde_json::to_value(current.details()).map_err(|e| ApiError::Internal(e.to_string()))?;
    merge_patch(&mut doc, &patch);
    let details = read_form(&doc, ctx.rules(), E::read_details)?;
    E::check(&ctx, &details).await?;
    let entry = E::build(current.id(), details, ctx.now_text(), expected + 1);
    let write = Write::put(Table::Records, entry.to_item(ctx.clinic()?), Cond::VersionIs(expected));
    let reply = Reply::ok(json!(entry)).versioned(entry.version());
    let facts = Facts::resource(E::NOUN, entry.id());
    Ok(Outcome::Write(vec![Guarded::new(write, ApiError::PreconditionFailed)], reply, facts))
}

/// `POST /v1/resources`
pub async fn create_resource(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    create::<Resource>(ctx, input).await
}

/// `GET /v1/resources?status=&limit=&cursor=`
pub async fn list_resources(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    list::<Resource>(ctx, input).await
}

/// `PATCH /v1/resources/{resourceId}`
pub async fn update_resource(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    update::<Resource>(ctx, input).await
}

/// `POST /v1/services`
pub async fn create_service(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    create::<Service>(ctx, input).await
}

/// `GET /v1/services?status=&limit=&cursor=`
pub async fn list_services(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    list::<Service>(ctx, input).await
}

/// `GET /v1/services/{serviceId}`
pub async fn read_service(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    read::<Service>(ctx, input).await
}

/// `PATCH /v1/services/{serviceId}`
pub async fn update_service(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    update::<Service>(ctx, input).await
}
