//! The DynamoDB records adapter: the same port over `aws-sdk-dynamodb`, items mapped by `serde_dynamo`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, Delete, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    Projection, ProjectionType, Put, ReturnValue, ScalarAttributeType, TransactWriteItem, Update as TxUpdate,
};

use super::schema::{self, Table};
use super::{Cond, Item, Key, Page, Query, Records, SkRange, StoreError, Update, Write};

/// Records in two DynamoDB tables.
#[derive(Clone, Debug)]
pub struct DynamoRecords {
    client: Client,
    records_table: String,
    audit_table: String,
}

type AttrMap = HashMap<String, AttributeValue>;

fn unavailable<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StoreError::Unavailable(DisplayErrorContext(e).to_string())
}

fn to_attrs(item: &Item) -> Result<AttrMap, StoreError> {
    serde_dynamo::to_item(item).map_err(|e| StoreError::Unavailable(e.to_string()))
}

fn from_attrs(attrs: AttrMap) -> Result<Item, StoreError> {
    serde_dynamo::from_item(attrs).map_err(|e| StoreError::Unavailable(e.to_string()))
}

fn key_attrs(key: &Key) -> AttrMap {
    HashMap::from([
        (schema::PK.to_string(), AttributeValue::S(key.pk.clone())),
        (schema::SK.to_string(), AttributeValue::S(key.sk.clone())),
    ])
}

/// A condition as an expression with its names and values.
struct Expr {
    text: Option<String>,
    names: HashMap<String, String>,
    values: AttrMap,
}

fn condition(cond: &Cond) -> Expr {
    let mut expr = Expr { text: None, names: HashMap::new(), values: HashMap::new() };
    match cond {
        Cond::Always => {}
        Cond::NotExists => expr.text = Some(format!("attribute_not_exists({})", schema::PK)),
        Cond::Exists => expr.text = Some(format!("attribute_exists({})", schema::PK)),
        Cond::VersionIs(v) => {
            expr.text = Some("#cv = :cv".into());
            expr.names.insert("#cv".into(), schema::VERSION.into());
            expr.values.insert(":cv".into(), AttributeValue::N(v.to_string()));
        }
    }
    expr
}

fn update_expression(update: &Update, expr: &mut Expr) -> Result<String, StoreError> {
    let mut sets = Vec::new();
    for (i, (name, value)) in update.set.iter().enumerate() {
        expr.names.insert(format!("#s{i}"), name.clone());
        let value = serde_dynamo::to_attribute_value(value).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        expr.values.insert(format!(":s{i}"), value);
        sets.push(format!("#s{i} = :s{i}"));
    }
    let mut adds = Vec::new();
    for (i, (name, by)) in update.add.iter().enumerate() {
        expr.names.insert(format!("#a{i}"), name.clone());
        expr.values.insert(format!(":a{i}"), AttributeValue::N(by.to_string()));
        adds.push(format!("#a{i} :a{i}"));
    }
    let mut text = String::new();
    if !sets.is_empty() {
        text.push_str(&format!("SET {}", sets.join(", ")));
    }
    if !adds.is_empty() {
        text.push_str(&format!(" ADD {}", adds.join(", ")));
    }
    Ok(text.trim().to_string())
}

fn opt_map<T>(map: HashMap<String, T>) -> Option<HashMap<String, T>> {
    (!map.is_empty()).then_some(map)
}

fn built<T>(r: Result<T, aws_sdk_dynamodb::error::BuildError>) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Unavailable(e.to_string()))
}

impl DynamoRecords {
    pub fn new(client: Client, records_table: impl Into<String>, audit_table: impl Into<String>) -> Self {
        Self { client, records_table: records_table.into(), audit_table: audit_table.into() }
    }

    fn table_name(&self, table: Table) -> &str {
        match table {
            Table::Records => &self.records_table,
            Table::Audit => &self.audit_table,
        }
    }

    fn tx_item(&self, write: &Write) -> Result<TransactWriteItem, StoreError> {
        let item = match write {
            Write::Put { table, item, cond } => {
                let c = condition(cond);
                let put = Put::builder()
                    .table_name(self.table_name(*table))
                    .set_item(Some(to_attrs(item)?))
                    .set_condition_expression(c.text)
                    .set_expression_attribute_names(opt_map(c.names))
                    .set_expression_attribute_values(opt_map(c.values));
                TransactWriteItem::builder().put(built(put.build())?)
            }
            Write::Update { table, key, update, cond } => {
                let mut c = condition(cond);
                let text = update_expression(update, &mut c)?;
                let upd = TxUpdate::builder()
                    .table_name(self.table_name(*table))
                    .set_key(Some(key_attrs(key)))
                    .update_expression(text)
                    .set_condition_expression(c.text)
                    .set_expression_attribute_names(opt_map(c.names))
                    .set_expression_attribute_values(opt_map(c.values));
                TransactWriteItem::builder().update(built(upd.build())?)
            }
            Write::Delete { table, key, cond } => {
                let c = condition(cond);
                let del = Delete::builder()
                    .table_name(self.table_name(*table))
                    .set_key(Some(key_attrs(key)))
                    .set_condition_expression(c.text)
                    .set_expression_attribute_names(opt_map(c.names))
                    .set_expression_attribute_values(opt_map(c.values));
                TransactWriteItem::builder().delete(built(del.build())?)
            }
        };
        Ok(item.build())
    }

    /// Creates both tables with their indexes (on-demand) unless they exist; for tests and local setups.
    pub async fn create_tables(&self) -> Result<(), StoreError> {
        for table in Table::ALL {
            let name = self.table_name(table);
            if self.client.describe_table().table_name(name).send().await.is_ok() {
                continue;
            }
            let mut attrs = vec![schema::PK, schema::SK];
            let mut indexes = Vec::new();
            for index in table.indexes() {
                let (pk, sk) = index.attrs();
                attrs.extend([pk, sk]);
                indexes.push(built(
                    GlobalSecondaryIndex::builder()
                        .index_name(index.name())
                        .key_schema(built(
                            KeySchemaElement::builder().attribute_name(pk).key_type(KeyType::Hash).build(),
                        )?)
                        .key_schema(built(
                            KeySchemaElement::builder().attribute_name(sk).key_type(KeyType::Range).build(),
                        )?)
                        .projection(
                            Projection::builder()
                                .projection_type(if table.keys_only_indexes() {
                                    ProjectionType::KeysOnly
                                } else {
                                    ProjectionType::All
                                })
                                .build(),
                        )
                        .build(),
                )?);
            }
            let mut req = self
                .client
                .create_table()
                .table_name(name)
                .billing_mode(BillingMode::PayPerRequest)
                .key_schema(built(
                    KeySchemaElement::builder().attribute_name(schema::PK).key_type(KeyType::Hash).build(),
                )?)
                .key_schema(built(
                    KeySchemaElement::builder().attribute_name(schema::SK).key_type(KeyType::Range).build(),
                )?)
                .set_global_secondary_indexes(Some(indexes));
            for attr in attrs {
                req = req.attribute_definitions(built(
                    AttributeDefinition::builder().attribute_name(attr).attribute_type(ScalarAttributeType::S).build(),
                )?);
            }
            req.send().await.map_err(unavailable)?;
        }
        Ok(())
    }

    /// One `TransactWriteItems` call, its cancellation reasons read into a `StoreError`.
    async fn transact_once(&self, items: Vec<TransactWriteItem>) -> Result<(), StoreError> {
        let result = self.client.transact_write_items().set_transact_items(Some(items)).send().await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(service)) if service.err().is_transaction_canceled_exception() => {
                let reasons = match service.err() {
                    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(e) => {
                        e.cancellation_reasons().to_vec()
                    }
                    _ => Vec::new(),
                };
                if let Some(index) = reasons.iter().position(|r| r.code() == Some("ConditionalCheckFailed")) {
                    return Err(StoreError::ConditionFailed { index });
                }
                if reasons.iter().any(|r| r.code() == Some("ValidationError")) {
                    return Err(StoreError::Refused("DynamoDB refused a write of the transaction".into()));
                }
                Err(StoreError::Conflict)
            }
            Err(SdkError::ServiceError(service)) if service.err().is_transaction_in_progress_exception() => {
                Err(StoreError::Conflict)
            }
            Err(e) => Err(unavailable(e)),
        }
    }
}

/// How many times a transaction DynamoDB cancelled for a concurrent one is sent again.
const TRANSACTION_CONFLICT_RETRIES: u32 = 3;

#[async_trait]
impl Records for DynamoRecords {
    async fn get(&self, table: Table, key: &Key) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(self.table_name(table))
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        out.item.map(from_attrs).transpose()
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        super::limits::check_transaction(&writes)?;
        let items = writes.iter().map(|w| self.tx_item(w)).collect::<Result<Vec<_>, _>>()?;
        // DynamoDB cancels one of two transactions that touch an item at the same moment, writing nothing of
        // it: that one is sent again, a few times, a little later.
        let mut attempt = 0;
        loop {
            match self.transact_once(items.clone()).await {
                Err(StoreError::Conflict) if attempt < TRANSACTION_CONFLICT_RETRIES => {
                    attempt += 1;
                    let jitter = u64::from(crate::crypto::random_bytes::<1>()[0] % 20);
                    tokio::time::sleep(std::time::Duration::from_millis(20 * u64::from(attempt) + jitter)).await;
                }
                other => return other,
            }
        }
    }

    async fn update(&self, table: Table, key: &Key, update: Update, cond: Cond) -> Result<Item, StoreError> {
        super::limits::attributes_size(&update.set)?;
        let mut c = condition(&cond);
        let text = update_expression(&update, &mut c)?;
        let result = self
            .client
            .update_item()
            .table_name(self.table_name(table))
            .set_key(Some(key_attrs(key)))
            .update_expression(text)
            .set_condition_expression(c.text)
            .set_expression_attribute_names(opt_map(c.names))
            .set_expression_attribute_values(opt_map(c.values))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => from_attrs(out.attributes.unwrap_or_default()),
            Err(SdkError::ServiceError(s)) if s.err().is_conditional_check_failed_exception() => {
                Err(StoreError::ConditionFailed { index: 0 })
            }
            Err(SdkError::ServiceError(s)) if s.err().code() == Some("ValidationException") => {
                Err(StoreError::Refused("DynamoDB refused the update (an item over 400 KB)".into()))
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        let (pk_attr, sk_attr) = match query.index {
            Some(index) => index.attrs(),
            None => (schema::PK, schema::SK),
        };
        let mut names = HashMap::from([("#pk".to_string(), pk_attr.to_string())]);
        let mut values = HashMap::from([(":pk".to_string(), AttributeValue::S(query.pk.clone()))]);
        let mut text = "#pk = :pk".to_string();
        match &query.sk {
            // DynamoDB refuses an empty key value; an empty prefix selects everything anyway.
            SkRange::All => {}
            SkRange::Prefix(p) if p.is_empty() => {}
            SkRange::Prefix(p) => {
                names.insert("#sk".into(), sk_attr.into());
                values.insert(":p".into(), AttributeValue::S(p.clone()));
                text.push_str(" AND begins_with(#sk, :p)");
            }
            SkRange::Between(lo, hi) => {
                names.insert("#sk".into(), sk_attr.into());
                values.insert(":lo".into(), AttributeValue::S(lo.clone()));
                values.insert(":hi".into(), AttributeValue::S(hi.clone()));
                text.push_str(" AND #sk BETWEEN :lo AND :hi");
            }
        }
        let start = query.start_after.as_ref().map(to_attrs).transpose()?;
        let result = self
            .client
            .query()
            .table_name(self.table_name(query.table))
            .set_index_name(query.index.map(|i| i.name().to_string()))
            .key_condition_expression(text)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(query.forward)
            .limit(i32::try_from(query.limit.max(1)).unwrap_or(i32::MAX))
            .consistent_read(query.index.is_none())
            .set_exclusive_start_key(start)
            .send()
            .await;
        let out = match result {
            Ok(out) => out,
            Err(SdkError::ServiceError(s))
                if s.err().code() == Some("ValidationException") && query.start_after.is_some() =>
            {
                return Err(StoreError::InvalidStartKey);
            }
            Err(e) => return Err(unavailable(e)),
        };
        let items = out.items.unwrap_or_default().into_iter().map(from_attrs).collect::<Result<Vec<_>, _>>()?;
        let next = out.last_evaluated_key.filter(|k| !k.is_empty()).map(from_attrs).transpose()?;
        Ok(Page { items, next })
    }
}
