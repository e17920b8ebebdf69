//! `idp audit …` (issue #12): search the audit trail and export it as JSON lines, through the
//! same library functions as the API (`admin::audit`).

use std::io::Write;
use std::sync::Arc;

use clap::Subcommand;
use idp::admin::actor::Actor;
use idp::admin::audit::{self, AuditQuery};
use idp::admin::when;
use idp::clock::SystemClock;
use idp::config::Config;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Print matching events, newest first, one per line: time, kind, user, client, IP, detail.
    Search {
        #[command(flatten)]
        filter: Filter,
        /// At most this many events (default 50, at most 500).
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Skip this many first.
        #[arg(long, default_value_t = 0)]
        offset: usize,
    },
    /// Write every matching event as JSON lines, oldest first (`> trail.jsonl`).
    Export {
        #[command(flatten)]
        filter: Filter,
    },
}

#[derive(clap::Args)]
pub struct Filter {
    /// A login or a user id.
    #[arg(long)]
    user: Option<String>,
    #[arg(long)]
    client: Option<String>,
    /// An event kind, or a prefix ending with * (recovery_*).
    #[arg(long)]
    kind: Option<String>,
    /// From (inclusive): YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or Unix seconds.
    #[arg(long)]
    since: Option<String>,
    /// To (exclusive), same forms.
    #[arg(long)]
    until: Option<String>,
}

impl Filter {
    fn query(self) -> anyhow::Result<AuditQuery> {
        Ok(AuditQuery {
            user: self.user,
            client: self.client,
            kind: self.kind,
            since: self.since.as_deref().map(when::parse_instant).transpose()?,
            until: self.until.as_deref().map(when::parse_instant).transpose()?,
            ..AuditQuery::default()
        })
    }
}

pub async fn audit(config: Config, command: AuditCommand) -> anyhow::Result<()> {
    let services = idp::app::services(&config, Arc::new(SystemClock)).await?;
    let actor = Actor::cli();
    match command {
        AuditCommand::Search { filter, limit, offset } => {
            let query = AuditQuery { limit, offset, ..filter.query()? };
            let page = audit::search_audit(&services, &actor, &query).await?;
            for e in &page.items {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    idp::clock::rfc3339(e.at),
                    e.kind,
                    e.user_id.as_deref().unwrap_or("-"),
                    e.client_id.as_deref().unwrap_or("-"),
                    e.ip,
                    e.detail
                );
            }
            eprintln!("{} of {} event(s)", page.items.len(), page.total);
            Ok(())
        }
        AuditCommand::Export { filter } => {
            let mut export = audit::export_audit(&services, &actor, &filter.query()?).await?;
            let mut out = std::io::stdout().lock();
            while let Some(chunk) = export.next_chunk(&services).await? {
                out.write_all(chunk.as_bytes())?;
            }
            out.flush()?;
            Ok(())
        }
    }
}
