//! `idp group …`: groups of users (issue #11).

use std::sync::Arc;

use clap::Subcommand;
use idp::admin;
use idp::admin::actor::Actor;
use idp::clock::SystemClock;
use idp::config::Config;

#[derive(Subcommand)]
pub enum GroupCommand {
    /// Create a group; the id is a short slug (letters, digits, '-', '_', '.').
    Add {
        #[arg(long)]
        id: String,
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Add a user to a group.
    AddMember {
        #[arg(long)]
        group: String,
        #[arg(long)]
        login: String,
    },
    /// Remove a user from a group: their next sign-in or refresh for an application restricted
    /// to it is refused.
    RemoveMember {
        #[arg(long)]
        group: String,
        #[arg(long)]
        login: String,
    },
    /// Print every group: id, member count, name.
    List,
    /// Print a group and the logins of its members.
    Show {
        #[arg(long)]
        id: String,
    },
}

pub async fn group(config: Config, command: GroupCommand) -> anyhow::Result<()> {
    let services = idp::app::services(&config, Arc::new(SystemClock)).await?;
    match command {
        GroupCommand::Add { id, name } => {
            let group = admin::groups::add_group(&services, &Actor::cli(), &id, &name).await?;
            println!("group {} created ({})", group.id, group.name);
        }
        GroupCommand::AddMember { group, login } => {
            if admin::groups::add_member(&services, &Actor::cli(), &group, &login).await? {
                println!("{login} added to group {group}");
            } else {
                println!("{login} already is in group {group}");
            }
        }
        GroupCommand::RemoveMember { group, login } => {
            anyhow::ensure!(
                admin::groups::remove_member(&services, &Actor::cli(), &group, &login).await?,
                "{login} is not in group {group}"
            );
            println!("{login} removed from group {group}");
        }
        GroupCommand::List => {
            for g in admin::groups::list_groups(&services, &Actor::cli()).await? {
                println!("{}\t{}\t{}", g.id, g.members, g.name);
            }
        }
        GroupCommand::Show { id } => {
            let g = admin::groups::show_group(&services, &Actor::cli(), &id).await?;
            println!("id: {}\nname: {}\ncreated: {}", g.id, g.name, idp::clock::rfc3339(g.created_at));
            for login in &g.members {
                println!("member: {login}");
            }
        }
    }
    Ok(())
}
