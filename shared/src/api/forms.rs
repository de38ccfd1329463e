//! Form templates: the clinic's own (copied from a built-in or written), every save a new version.

use serde_json::{Value, json};

use super::chart::query_all;
use crate::domain::audit::Resource;
use crate::domain::forms::builtin;
use crate::domain::forms::template::{TemplateContent, valid_template_id};
use crate::domain::keys;
use crate::domain::values::EntityId;
use crate::http::input::Input;
use crate::http::outcome::{Facts, Guarded, Outcome, Reply};
use crate::http::pipeline::Ctx;
use crate::http::problem::ApiError;
use crate::store::{Cond, Item, Key, Query, SkRange, Table, Write, entity_item};

/// One saved version of a template.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredTemplate {
    pub id: String,
    pub version: u64,
    pub content: TemplateContent,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copied_from: Option<String>,
    pub saved_by: String,
    pub saved_at: String,
}

fn template_key(clinic: EntityId, id: &str, version: u64) -> Key {
    Key::new(keys::clinic_pk(clinic), format!("TEMPLATE#{id}#{version:08}"))
}

fn template_facts(id: &str) -> Facts {
    Facts { resources: vec![Resource::new("form-template", id)], ..Facts::none() }
}

/// One version of a clinic's template, if it exists.
pub async fn version(ctx: &Ctx, clinic: EntityId, id: &str, version: u64) -> Result<Option<StoredTemplate>, ApiError> {
    let item = ctx.app.records.get(Table::Records, &template_key(clinic, id, version)).await?;
    Ok(item.map(crate::store::entity_from).transpose()?)
}

/// The latest version of a clinic's template, if it has one.
pub async fn latest(ctx: &Ctx, id: &str) -> Result<Option<StoredTemplate>, ApiError> {
    let query = Query::new(Table::Records, keys::clinic_pk(ctx.clinic()?))
        .sk(SkRange::Prefix(format!("TEMPLATE#{id}#")))
        .backward()
        .limit(1);
    let page = ctx.app.records.query(query).await?;
    page.items.into_iter().next().map(|item| crate::store::entity_from(item).map_err(ApiError::from)).transpose()
}

fn template_id(input: &Input) -> Result<String, ApiError> {
    input.path.get("templateId").filter(|id| valid_template_id(id)).cloned().ok_or(ApiError::NotFound)
}

/// `GET /v1/form-templates`: the clinic's templates (latest versions) and the built-ins it can copy.
pub async fn list(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    input.params(ctx.route.query)?;
    let query = Query::new(Table::Records, keys::clinic_pk(ctx.clinic()?)).sk(SkRange::Prefix("TEMPLATE#".into()));
    let mut latest: Vec<StoredTemplate> = Vec::new();
    for item in query_all(&ctx, query).await? {
        let stored: StoredTemplate = crate::store::entity_from(item)?;
        match latest.last_mut() {
            Some(last) if last.id == stored.id => *last = stored,
            _ => latest.push(stored),
        }
    }
    let summary =
        |t: &StoredTemplate| json!({"id": t.id, "version": t.version, "title": t.content.title, "savedAt": t.saved_at});
    let builtins: Vec<Value> = builtin::ALL.iter().map(|b| json!({"id": b.id, "title": b.content().title})).collect();
    let body = json!({"items": latest.iter().map(summary).collect::<Vec<_>>(), "builtIn": builtins});
    Ok(Outcome::Read(Reply::ok(body), Facts::none()))
}

/// `GET /v1/form-templates/{templateId}?version=`: a version (the latest by default).
pub async fn read(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let id = template_id(&input)?;
    let params = input.params(ctx.route.query)?;
    let stored = match params.get("version") {
        None => latest(&ctx, &id).await?,
        Some(raw) => {
            let number: u64 = raw.parse().map_err(|_| ApiError::field("version", "must be a whole number"))?;
            version(&ctx, ctx.clinic()?, &id, number).await?
        }
    };
    let stored = stored.ok_or(ApiError::NotFound)?;
    let version = stored.version;
    Ok(Outcome::Read(Reply::ok(json!(stored)).versioned(version), template_facts(&id)))
}

/// `PUT /v1/form-templates/{templateId}`: a template's content, or `{"copyOf": "<built-in id>"}`. Creating
/// one takes no `If-Match`; a new version of an existing one needs the current version's.
pub async fn save(ctx: Ctx, input: Input) -> Result<Outcome, ApiError> {
    let id = template_id(&input)?;
    let mut body = input.json(&["application/json"])?;
    if let Some(fields) = body.as_object_mut()
        && fields.get("copyOf").is_some_and(Value::is_null)
    {
        fields.remove("copyOf");
    }
    let copied_from = body.get("copyOf").and_then(Value::as_str).map(str::to_string);
    let content = match &copied_from {
        Some(source) => {
            if body.as_object().is_some_and(|o| o.len() > 1) {
                return Err(ApiError::field("copyOf", "comes alone: a copy takes nothing else"));
            }
            builtin::find(source).ok_or_else(|| ApiError::unknown("copyOf", "names no built-in template"))?.content()
        }
        None => serde_json::from_value::<TemplateContent>(body)
            .map_err(|e| ApiError::BadRequest(format!("the template is not well formed: {e}")))?,
    };
    let errors = content.check();
    if !errors.is_empty() {
        return Err(ApiError::Invalid { errors });
    }
    let current = latest(&ctx, &id).await?;
    // Each version is an item of its own, written only if new: the condition is checked, not written.
    input.replace_cond(current.as_ref().map(|c| c.version))?;
    let version = current.as_ref().map_or(1, |c| c.version + 1);
    let stored = StoredTemplate {
        id: id.clone(),
        version,
        content,
        copied_from,
        saved_by: ctx.caller.user.to_string(),
        saved_at: ctx.now_text(),
    };
    let item: Item = entity_item(&template_key(ctx.clinic()?, &id, version), &stored);
    let writes = vec![Guarded::new(Write::put(Table::Records, item, Cond::NotExists), ApiError::PreconditionFailed)];
    let reply = Reply::ok(json!(stored)).versioned(version);
    let reply = if version == 1 { Reply { status: 201, ..reply } } else { reply };
    Ok(Outcome::Write(writes, reply, template_facts(&id)))
}
