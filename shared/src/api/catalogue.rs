//! The clinic's catalogues: for its calendar, rooms and devices (`/v1/resources`) and services
//! (`/v1/services`), which administrators write and every staff member reads; and the products it adds to
//! the safety catalogue (`/v1/safety-products`). Each change names the version it read (`If-Match`), and
//! nothing is deleted: a retired entry stays for the record.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{map_items, page_body, scope, start_after};
use crate::domain::fields::{Form, merge_patch};
use crate::domain::keys;
use crate::domain::role::Role;
use crate::domain::safety::ProductId;
use crate::domain::safety::products::{ClinicProduct, ProductDetails};
use crate::domain::scheduling::resource::{Resource, ResourceDetails};
use crate::domain::scheduling::service::ServiceDetails;
use crate::domain::scheduling::{CatalogueStatus, Catalogued, Kind};
use crate::domain::staff::{StaffMember, StaffStatus};
use crate::domain::values::EntityId;
use crate::http::input::{Input, at_version, read_form};
use crate::http::outcome::{Facts, Guarded, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::store::{Cond, Key, Query, SkRange, Table, Write, entity_from};

/// What the API needs to know of one kind of catalogue entry, besides its details' own rules.
trait Details: Kind + Serialize + DeserializeOwned + Sized {
    /// Its path parameter, its collection's path, and its type in audit events.
    const PARAM: &'static str;
    const PATH: &'static str;
    const NOUN: &'static str;

    fn read(form: &Form<'_>) -> Option<Self>;
    /// What the rest of the clinic must hold for these details of the entry `id` to be valid (422
    /// otherwise).
    async fn check(&self, ctx: &Ctx, id: EntityId) -> Result<(), ApiError>;
}

impl Details for ResourceDetails {
    const PARAM: &'static str = "resourceId";
    const PATH: &'static str = "/v1/resources";
    const NOUN: &'static str = "resource";

    fn read(form: &Form<'_>) -> Option<Self> {
        ResourceDetails::read(form)
    }

    async fn check(&self, _ctx: &Ctx, _id: EntityId) -> Result<(), ApiError> {
        Ok(())
    }
}

impl Details for ServiceDetails {
    const PARAM: &'static str = "serviceId";
    const PATH: &'static str = "/v1/services";
    const NOUN: &'static str = "service";

    fn read(form: &Form<'_>) -> Option<Self> {
        ServiceDetails::read(form)
    }

    /// An active service needs active resources, active clinical staff, the clinic's own templates, and
    /// for its treatment the clinic's own active products of its type.
    async fn check(&self, ctx: &Ctx, _id: EntityId) -> Result<(), ApiError> {
        if self.status == CatalogueStatus::Retired {
            return Ok(());
        }
        let clinic = ctx.clinic()?;
        for id in &self.resource_ids {
            let resource: Option<Resource> = load_item(ctx, Resource::key(clinic, *id)).await?;
            match resource {
                None => {
                    return Err(ApiError::unknown("resourceIds", format!("{id} is not a resource of the clinic")));
                }
                Some(r) if r.details.status == CatalogueStatus::Retired => {
                    return Err(ApiError::unsuitable("resourceIds", format!("{id} is retired")));
                }
                Some(_) => {}
            }
        }
        for user in &self.performed_by.staff {
            let key = Key::new(keys::clinic_pk(clinic), keys::staff_sk(user));
            let member: Option<StaffMember> = load_item(ctx, key).await?;
            let performs = member
                .is_some_and(|m| m.status == StaffStatus::Active && matches!(m.role, Role::Practitioner | Role::Nurse));
            if !performs {
                let message = format!("{user} is not an active practitioner or nurse of the clinic");
                return Err(ApiError::unsuitable("performedBy.staff", message));
            }
        }
        for template in &self.form_template_ids {
            if super::forms::latest(ctx, template).await?.is_none() {
                let message = format!("{template} is not one of the clinic's form templates");
                return Err(ApiError::unknown("formTemplateIds", message));
            }
        }
        let Some(plan) = &self.treatment else { return Ok(()) };
        for (i, ProductId(id)) in plan.products.iter().enumerate().filter(|(_, p)| !p.is_shipped()) {
            let field = format!("treatment.products[{i}]");
            let product: Option<ClinicProduct> = match EntityId::parse(id) {
                Some(id) => load_item(ctx, ClinicProduct::key(clinic, id)).await?,
                None => None,
            };
            match product {
                None => return Err(ApiError::unknown(&field, "is no product the clinic added")),
                Some(p) if p.details.status == CatalogueStatus::Retired => {
                    return Err(ApiError::unsuitable(&field, "is retired"));
                }
                Some(p) if p.details.treatment_type != plan.treatment_type => {
                    let why = format!("is for {} treatments, not {}", p.details.treatment_type, plan.treatment_type);
                    return Err(ApiError::field_rule(&field, why));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

impl Details for ProductDetails {
    const PARAM: &'static str = "productId";
    const PATH: &'static str = "/v1/safety-products";
    const NOUN: &'static str = "safety-product";

    fn read(form: &Form<'_>) -> Option<Self> {
        ProductDetails::read(form)
    }

    /// No other product of the clinic goes by one of its names: a charted name must mean one product.
    async fn check(&self, ctx: &Ctx, id: EntityId) -> Result<(), ApiError> {
        let query = Query::new(Table::Records, keys::clinic_pk(ctx.clinic()?))
            .sk(SkRange::Prefix(ProductDetails::PREFIX.into()))
            .limit(100);
        let names = self.folded();
        for item in super::chart::query_all(ctx, query).await? {
            let other: ClinicProduct = entity_from(item)?;
            if other.id != id && other.details.folded().iter().any(|n| names.contains(n)) {
                let message =
                    format!("shares a name with the clinic's product {} ({})", other.id, other.details.name.as_str());
                return Err(ApiError::unsuitable("name", message));
            }
        }
        Ok(())
    }
}

/// An item of the records table read as `T`, if it is there.
pub(super) async fn load_item<T: DeserializeOwned>(ctx: &Ctx, key: Key) -> Result<Option<T>, ApiError> {
    Ok(ctx.app.records.get(Table::Records, &key).await?.map(entity_from).transpose()?)
}

async fn create<D: Details>(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let details = input.form(ctx.rules(), D::read)?;
    let id = ctx.new_id();
    details.check(&ctx, id).await?;
    let entry = Catalogued { id, details, updated_at: ctx.now_text(), version: 1 };
    let write = Write::put(Table::Records, entry.to_item(ctx.clinic()?), Cond::NotExists);
    let collision = ApiError::Conflict("a concurrent request interfered; retry".into());
    // A resource has no read of its own: its Location would name nothing to GET.
    let reply = if crate::http::openapi::has_own_address(ctx.route) {
        Reply::created(json!(entry), format!("{}/{}", D::PATH, entry.id))
    } else {
        Reply::made(json!(entry))
    };
    let reply = reply.versioned(1);
    Ok(Outcome::Write(vec![Guarded::new(write, collision)], reply, Facts::resource(D::NOUN, entry.id)))
}

async fn list<D: Details>(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let params = input.params(ctx.route.query)?;
    let status = params.parsed::<CatalogueStatus>("status", &ctx.rules())?;
    let scope = scope(&ctx, &[status.map(CatalogueStatus::as_str)]);
    let query = Query::new(Table::Records, keys::clinic_pk(ctx.clinic()?))
        .sk(SkRange::Prefix(D::PREFIX.into()))
        .limit(params.limit()?)
        .start_after(start_after(&ctx, &params, &scope)?);
    let page = ctx.app.records.query(query).await?;
    let entries = map_items(&page, |item| Ok(json!(entity_from::<Catalogued<D>>(item.clone())?)))?;
    let wanted = |e: &Value| status.is_none_or(|s| e["status"] == s.as_str());
    let body = page_body(&ctx, &scope, entries.into_iter().filter(wanted).collect(), page.next)?;
    Ok(Outcome::Read(Reply::ok(body), Facts::none()))
}

async fn load<D: Details>(ctx: &Ctx, input: &Input) -> Result<Catalogued<D>, ApiError> {
    input.params(ctx.route.query)?;
    let id = input.entity(D::PARAM)?;
    load_item(ctx, Catalogued::<D>::key(ctx.clinic()?, id)).await?.ok_or(ApiError::NotFound)
}

async fn read<D: Details>(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let entry = load::<D>(&ctx, &input).await?;
    let reply = Reply::ok(json!(entry)).versioned(entry.version);
    Ok(Outcome::Read(reply, Facts::resource(D::NOUN, entry.id)))
}

/// A JSON merge patch of the details, on the version `If-Match` names.
async fn update<D: Details>(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let patch = input.json(&["application/merge-patch+json", "application/json"])?;
    if !patch.is_object() {
        return Err(ApiError::field("", "the body must be a JSON object (a merge patch)"));
    }
    let expected = input.if_match()?;
    let current = load::<D>(&ctx, &input).await?;
    let mut doc = serde_json::to_value(&current.details).map_err(|e| ApiError::Internal(e.to_string()))?;
    merge_patch(&mut doc, &patch);
    let details = read_form(&doc, ctx.rules(), D::read)?;
    at_version(expected, current.version)?;
    details.check(&ctx, current.id).await?;
    let entry = Catalogued { details, updated_at: ctx.now_text(), version: expected + 1, ..current };
    let write = Write::put(Table::Records, entry.to_item(ctx.clinic()?), Cond::VersionIs(expected));
    let reply = Reply::ok(json!(entry)).versioned(entry.version);
    let facts = Facts::resource(D::NOUN, entry.id);
    Ok(Outcome::Write(vec![Guarded::new(write, ApiError::PreconditionFailed)], reply, facts))
}

/// `POST /v1/resources`
pub async fn create_resource(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    create::<ResourceDetails>(ctx, input).await
}

/// `GET /v1/resources?status=&limit=&cursor=`
pub async fn list_resources(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    list::<ResourceDetails>(ctx, input).await
}

/// `PATCH /v1/resources/{resourceId}`
pub async fn update_resource(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    update::<ResourceDetails>(ctx, input).await
}

/// `POST /v1/services`
pub async fn create_service(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    create::<ServiceDetails>(ctx, input).await
}

/// `GET /v1/services?status=&limit=&cursor=`
pub async fn list_services(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    list::<ServiceDetails>(ctx, input).await
}

/// `GET /v1/services/{serviceId}`
pub async fn read_service(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    read::<ServiceDetails>(ctx, input).await
}

/// `PATCH /v1/services/{serviceId}`
pub async fn update_service(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    update::<ServiceDetails>(ctx, input).await
}

/// `POST /v1/safety-products`
pub async fn create_product(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    create::<ProductDetails>(ctx, input).await
}

/// `GET /v1/safety-products?status=&limit=&cursor=`
pub async fn list_products(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    list::<ProductDetails>(ctx, input).await
}

/// `PATCH /v1/safety-products/{productId}`
pub async fn update_product(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    update::<ProductDetails>(ctx, input).await
}
