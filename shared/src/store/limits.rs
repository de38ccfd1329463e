//! What DynamoDB refuses, checked before every write by both adapters: so the embedded store refuses
//! what AWS would, and a write AWS would refuse fails with a clear error instead of a service exception.

use std::collections::HashSet;

use serde_json::{Number, Value};

use super::{Item, StoreError, Table, Write, str_attr};

/// The largest item we store: DynamoDB's "400 KB", attribute names included, read as 400,000 bytes (the
/// service's own accounting lets a little more through; this keeps every item safely inside it).
pub const MAX_ITEM_BYTES: usize = 400_000;
/// How deep lists and maps may nest inside an item.
pub const MAX_DEPTH: usize = 32;
/// The most writes one transaction may hold.
pub const MAX_TRANSACTION_WRITES: usize = 100;
/// The most bytes one transaction may write.
pub const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;
/// Every DynamoDB number is below this magnitude (the largest is 9.99…9E+125, 38 digits).
const NUMBER_BOUND: f64 = 1e126;
/// The smallest positive magnitude of a DynamoDB number.
const MIN_NUMBER: f64 = 1e-130;

fn refused(reason: String) -> StoreError {
    StoreError::Refused(reason)
}

/// The size DynamoDB counts for a number: one byte per two significant digits, plus one.
fn number_size(n: &Number) -> usize {
    let text = n.to_string();
    let mantissa = text.split(['e', 'E']).next().unwrap_or("");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len().max(1);
    significant.div_ceil(2) + 1
}

fn check_number(n: &Number) -> Result<(), StoreError> {
    let Some(value) = n.as_f64().filter(|_| !n.is_i64() && !n.is_u64()) else {
        return Ok(());
    };
    let magnitude = value.abs();
    if magnitude != 0.0 && !(MIN_NUMBER..NUMBER_BOUND).contains(&magnitude) {
        return Err(refused("a number is outside DynamoDB's range (1E-130 to 9.9E+125 in magnitude)".into()));
    }
    Ok(())
}

/// The size DynamoDB counts for a value (lists and maps: 3 bytes, plus 1 byte an element), checking its
/// numbers and nesting on the way.
fn value_size(value: &Value, depth: usize) -> Result<usize, StoreError> {
    Ok(match value {
        Value::Null | Value::Bool(_) => 1,
        Value::String(s) => s.len(),
        Value::Number(n) => {
            check_number(n)?;
            number_size(n)
        }
        Value::Array(_) | Value::Object(_) if depth > MAX_DEPTH => {
            return Err(refused(format!("lists and maps nest deeper than DynamoDB's {MAX_DEPTH} levels")));
        }
        Value::Array(items) => {
            let mut size = 3;
            for item in items {
                size += 1 + value_size(item, depth + 1)?;
            }
            size
        }
        Value::Object(map) => {
            let mut size = 3;
            for (name, item) in map {
                size += 1 + name.len() + value_size(item, depth + 1)?;
            }
            size
        }
    })
}

/// Checks attribute values (numbers, nesting) and returns their size, names included.
pub fn attributes_size(item: &Item) -> Result<usize, StoreError> {
    let mut size = 0;
    for (name, value) in item {
        size += name.len() + value_size(value, 1)?;
    }
    Ok(size)
}

/// Checks a whole item as DynamoDB would store it.
pub fn check_item(item: &Item) -> Result<usize, StoreError> {
    let size = attributes_size(item)?;
    if size > MAX_ITEM_BYTES {
        return Err(refused(format!("an item of {size} bytes is over DynamoDB's limit of {MAX_ITEM_BYTES}")));
    }
    Ok(size)
}

/// Checks a transaction: at most 100 writes, 4 MB, one write per item, and every value as above. The
/// size of an updated item is checked by the adapter that knows it (DynamoDB itself, or the embedded
/// store after applying the update).
pub fn check_transaction(writes: &[Write]) -> Result<(), StoreError> {
    if writes.is_empty() || writes.len() > MAX_TRANSACTION_WRITES {
        return Err(refused(format!(
            "a transaction of {} writes: DynamoDB takes 1 to {MAX_TRANSACTION_WRITES}",
            writes.len()
        )));
    }
    let mut seen: HashSet<(Table, String, String)> = HashSet::new();
    let mut total = 0;
    for write in writes {
        let (table, pk, sk, size) = match write {
            Write::Put { table, item, .. } => {
                let (pk, sk) = (str_attr(item, super::schema::PK), str_attr(item, super::schema::SK));
                let (Some(pk), Some(sk)) = (pk, sk) else {
                    return Err(refused("an item without string PK and SK".into()));
                };
                (*table, pk.to_string(), sk.to_string(), check_item(item)?)
            }
            Write::Update { table, key, update, .. } => {
                let size = attributes_size(&update.set)? + update.add.iter().map(|(n, _)| n.len() + 21).sum::<usize>();
                (*table, key.pk.clone(), key.sk.clone(), size)
            }
            Write::Delete { table, key, .. } => (*table, key.pk.clone(), key.sk.clone(), 0),
        };
        if !seen.insert((table, pk, sk)) {
            return Err(refused("a transaction writes one item twice, which DynamoDB refuses".into()));
        }
        total += size;
    }
    if total > MAX_TRANSACTION_BYTES {
        return Err(refused(format!("a transaction of {total} bytes is over DynamoDB's limit of 4 MB")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn item(extra: Value) -> Item {
        let mut i = Item::new();
        i.insert("PK".into(), "P".into());
        i.insert("SK".into(), "S".into());
        if let Value::Object(m) = extra {
            i.extend(m);
        }
        i
    }

    #[test]
    fn sizes_count_names_values_and_containers_as_dynamodb_does() {
        let keys = "PK".len() + "P".len() + "SK".len() + "S".len();
        assert_eq!(check_item(&item(json!({}))).unwrap(), keys);
        assert_eq!(check_item(&item(json!({"name": "abc"}))).unwrap(), keys + 4 + 3);
        assert_eq!(check_item(&item(json!({"n": 12345}))).unwrap(), keys + 1 + 4);
        assert_eq!(check_item(&item(json!({"l": ["ab", true]}))).unwrap(), keys + 1 + 3 + (1 + 2) + (1 + 1));
    }

    #[test]
    fn numbers_outside_dynamodbs_range_are_refused() {
        assert!(check_item(&item(json!({"n": 1e126}))).is_err());
        assert!(check_item(&item(json!({"n": -1e-131}))).is_err());
        assert!(check_item(&item(json!({"n": 9.9e125, "m": 1e-130, "z": 0.0, "i": i64::MAX, "u": u64::MAX}))).is_ok());
    }

    #[test]
    fn nesting_deeper_than_32_levels_is_refused() {
        let nest = |levels: usize| (0..levels).fold(json!("leaf"), |inner, _| json!([inner]));
        assert!(check_item(&item(json!({"a": nest(32)}))).is_ok());
        assert!(check_item(&item(json!({"a": nest(33)}))).is_err());
    }
}
