//! The physical schema both adapters and the deployment share: tables, key and index attributes.

/// Partition key attribute.
pub const PK: &str = "PK";
/// Sort key attribute.
pub const SK: &str = "SK";
/// Optimistic-concurrency counter on every item.
pub const VERSION: &str = "version";
/// Expiry time (epoch seconds) that DynamoDB's TTL reads.
pub const TTL: &str = "ttl";

/// The two tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    /// Clinics, staff, patients and everything in a chart.
    Records,
    /// Access events; written once, never updated.
    Audit,
}

impl Table {
    pub const ALL: [Table; 2] = [Table::Records, Table::Audit];

    /// The secondary indexes of this table.
    pub fn indexes(self) -> &'static [Index] {
        match self {
            Table::Records => &[Index::Gsi1, Index::Gsi2, Index::Gsi3],
            Table::Audit => &[Index::Gsi1, Index::Gsi2],
        }
    }

    /// Whether an index of this table holds only the keys (its own and the table's) of each item: the
    /// audit table's, whose events are read whole by key after the index finds them (the cost model's
    /// figures: a copy of every event in each index costs storage and write units for reads that are
    /// rare).
    pub fn keys_only_indexes(self) -> bool {
        self == Table::Audit
    }

    pub fn has_index(self, index: Option<Index>) -> bool {
        index.is_none_or(|i| self.indexes().contains(&i))
    }

    /// A stable short name (embedded table names, logs).
    pub fn name(self) -> &'static str {
        match self {
            Table::Records => "records",
            Table::Audit => "audit",
        }
    }
}

/// Global secondary indexes; each table gives them its own meaning (see the key builders).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Index {
    Gsi1,
    Gsi2,
    Gsi3,
}

impl Index {
    pub fn name(self) -> &'static str {
        match self {
            Index::Gsi1 => "GSI1",
            Index::Gsi2 => "GSI2",
            Index::Gsi3 => "GSI3",
        }
    }

    /// The (partition, sort) key attributes of the index.
    pub fn attrs(self) -> (&'static str, &'static str) {
        match self {
            Index::Gsi1 => ("GSI1PK", "GSI1SK"),
            Index::Gsi2 => ("GSI2PK", "GSI2SK"),
            Index::Gsi3 => ("GSI3PK", "GSI3SK"),
        }
    }
}
