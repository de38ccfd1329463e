//! `vellum-audit-verify --clinic <id|platform> [--from <time>] [--to <time>]`: walks one chain of the audit
//! archive and compares a window of it with the audit table, on the backend `VELLUM_BACKEND` names (the
//! embedded store's data directory, or DynamoDB and the archive bucket). Prints what it found; any break
//! is a non-zero exit.

use std::sync::Arc;

use super::config::{self, Backend, ConfigError};
use crate::archive::verify::{Depth, SETTLING_MINUTES, Verification, Window, settled_before, verify};
use crate::blobs::Blobs;
use crate::domain::values::EntityId;
use crate::ids::sortable_time;

/// What to verify.
#[derive(Debug, PartialEq, Eq)]
pub struct VerifyArgs {
    pub chain: String,
    /// Sortable times (as event sort keys begin).
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Reads the command line (after the program name).
pub fn parse_args(args: &[String]) -> Result<VerifyArgs, ConfigError> {
    let usage = || {
        ConfigError("usage: vellum-audit-verify --clinic <id|platform> [--from <RFC 3339>] [--to <RFC 3339>]".into())
    };
    let (mut chain, mut from, mut to) = (None, None, None);
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().ok_or_else(usage)?;
        let time = || {
            chrono::DateTime::parse_from_rfc3339(value)
                .map(|t| sortable_time(t.to_utc()))
                .map_err(|_| ConfigError(format!("{flag} must be an RFC 3339 time such as 2026-01-31T00:00:00Z")))
        };
        match flag.as_str() {
            "--clinic" if value == "platform" || EntityId::parse(value).is_some() => chain = Some(value.clone()),
            "--clinic" => return Err(ConfigError("--clinic must be a clinic id or platform".into())),
            "--from" => from = Some(time()?),
            "--to" => to = Some(time()?),
            _ => return Err(usage()),
        }
    }
    Ok(VerifyArgs { chain: chain.ok_or_else(usage)?, from, to })
}

/// The report a person reads: counts, then each finding on a line of its own.
pub fn report(args: &VerifyArgs, found: &Verification) -> String {
    let mut out = format!(
        "chain {}: {} batches; {} events in the archive and {} in the table within the window\n",
        args.chain, found.batches, found.archived_events, found.table_events
    );
    if found.unreferenced > 0 {
        out.push_str(&format!(
            "{} batch object outside the chain (a commit that failed and was written again): not a break\n",
            found.unreferenced
        ));
    }
    if found.pending > 0 {
        out.push_str(&format!(
            "{} events of the last {SETTLING_MINUTES} minutes are still on their way to the archive: not a break\n",
            found.pending
        ));
    }
    if found.retired > 0 {
        out.push_str(&format!(
            "{} archived events were retired from the table after verification: not a break\n",
            found.retired
        ));
    }
    if found.passed() {
        out.push_str("verified: the chain is whole and the archive holds exactly the table's events\n");
    }
    for finding in &found.findings {
        out.push_str(&format!("BROKEN: {finding}\n"));
    }
    out
}

/// Runs the verification on the configured backend: the report, and whether it passed.
pub async fn run(args: &[String]) -> Result<(String, bool), ConfigError> {
    let args = parse_args(args)?;
    let (records, archive): (Arc<dyn crate::store::Records>, Arc<dyn Blobs>) = match Backend::from_env()? {
        Backend::Embedded => {
            let dir = config::data_dir();
            (Arc::new(config::embedded_in(&dir)?), config::local_archive_in(&dir)?)
        }
        Backend::Aws => {
            (config::aws_records_from_env().await?, config::aws_archive_required(config::sdk_config().await)?)
        }
    };
    let settled = settled_before(chrono::Utc::now());
    let window = Window { from: args.from.as_deref(), to: args.to.as_deref(), settled_before: Some(&settled) };
    let found =
        verify(records.as_ref(), archive.as_ref(), &args.chain, window, Depth::Whole).await.map_err(ConfigError)?;
    Ok((report(&args, &found), found.passed()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_command_line_names_a_chain_and_a_window() {
        let read =
            parse_args(&args(&["--clinic", "01JD0000000000000000000001", "--from", "2026-01-01T00:00:00Z"])).unwrap();
        assert_eq!(read.chain, "01JD0000000000000000000001");
        assert!(read.from.as_deref().is_some_and(|f| f.starts_with("2026-01-01T00:00:00")));
        assert_eq!(read.to, None);
        assert!(parse_args(&args(&["--clinic", "nope"])).is_err());
        assert!(parse_args(&args(&["--from", "yesterday", "--clinic", "platform"])).is_err());
        assert!(parse_args(&args(&[])).is_err());
    }

    #[test]
    fn a_report_says_passed_or_lists_each_break() {
        let args = VerifyArgs { chain: "platform".into(), from: None, to: None };
        let clean = Verification {
            batches: 2,
            archived_events: 5,
            table_events: 5,
            unreferenced: 1,
            retired: 3,
            findings: vec![],
            ..Verification::default()
        };
        assert!(report(&args, &clean).contains("verified"));
        assert!(report(&args, &clean).contains("1 batch object outside the chain"));
        assert!(report(&args, &clean).contains("3 archived events were retired from the table"));
        let broken = Verification { findings: vec!["batch 2 is missing".into()], ..clean };
        assert!(report(&args, &broken).contains("BROKEN: batch 2 is missing"));
    }
}
