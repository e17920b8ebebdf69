//! `idp user list|show|update|disable|enable|delete|unlock|reset-secret-question|sessions|
//! end-sessions|consents|revoke-consent|grants|revoke-grant|events|set-role` (issue #12): each
//! calls one `admin::users` function as `Actor::cli()`, as the admin API does for its caller.

use clap::Subcommand;
use idp::admin::actor::{Actor, Role};
use idp::admin::page::PageRequest;
use idp::admin::users::{self, UserQuery, UserRef, UserSort, UserStatus, UserUpdate, UserView};
use idp::clock::rfc3339;
use idp::services::Services;

#[derive(Subcommand)]
pub enum UserOpsCommand {
    /// Search users; prints login, status, e-mail, type and role, tab-separated.
    List {
        /// A login or e-mail prefix.
        #[arg(long)]
        q: Option<String>,
        #[arg(long)]
        login: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Part of the given or family name.
        #[arg(long)]
        name: Option<String>,
        #[arg(long = "type")]
        user_type: Option<String>,
        #[arg(long)]
        group: Option<String>,
        /// active, locked, disabled, pending_activation, password_expired.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        limit: Option<i64>,
        #[arg(long)]
        offset: Option<i64>,
        /// login, created_at or email; `-key` or `key:desc` for descending.
        #[arg(long, default_value = "login", allow_hyphen_values = true)]
        sort: String,
    },
    /// One account: status, lock, groups, recent sign-ins, sessions (never a secret).
    Show {
        #[arg(long)]
        login: String,
    },
    /// Change the profile; an empty value removes a phone number, address or birth date;
    /// --identifier (repeatable) replaces every alternate identifier.
    Update {
        #[arg(long)]
        login: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        given_name: Option<String>,
        #[arg(long)]
        family_name: Option<String>,
        #[arg(long)]
        phone_number: Option<String>,
        #[arg(long)]
        address: Option<String>,
        #[arg(long)]
        user_type: Option<String>,
        #[arg(long)]
        birth_date: Option<String>,
        #[arg(long = "identifier", value_name = "KIND=VALUE")]
        identifiers: Vec<String>,
        /// Remove every alternate identifier.
        #[arg(long, conflicts_with = "identifiers")]
        clear_identifiers: bool,
    },
    /// The account can no longer sign in; its sessions end and its refresh tokens are deleted.
    Disable {
        #[arg(long)]
        login: String,
    },
    /// The account can sign in again (after disable).
    Enable {
        #[arg(long)]
        login: String,
    },
    /// Erase the account and its personal data (GDPR); the audit trail stays, pseudonymised.
    Delete {
        #[arg(long)]
        login: String,
        /// Required: the erasure cannot be undone.
        #[arg(long)]
        yes: bool,
    },
    /// Lift a lockout.
    Unlock {
        #[arg(long)]
        login: String,
    },
    /// Delete the secret question: the next sign-in asks for a new one.
    ResetSecretQuestion {
        #[arg(long)]
        login: String,
    },
    /// Live browser sessions: sid, created, IP, user agent.
    Sessions {
        #[arg(long)]
        login: String,
    },
    /// End one session (--sid) or all, telling the applications.
    EndSessions {
        #[arg(long)]
        login: String,
        #[arg(long)]
        sid: Option<String>,
    },
    /// The applications the user consented to: client, scopes, when.
    Consents {
        #[arg(long)]
        login: String,
    },
    /// Forget the consent to a client and delete the user's refresh tokens of it.
    RevokeConsent {
        #[arg(long)]
        login: String,
        #[arg(long)]
        client: String,
    },
    /// Live refresh-token grants: grant id, client, scopes, expiry.
    Grants {
        #[arg(long)]
        login: String,
    },
    /// Delete one refresh-token grant (its id from `user grants`).
    RevokeGrant {
        #[arg(long)]
        login: String,
        #[arg(long)]
        grant: String,
    },
    /// The account's audit events, newest first, as JSON lines.
    Events {
        #[arg(long)]
        login: String,
        #[arg(long)]
        limit: Option<i64>,
        #[arg(long)]
        offset: Option<i64>,
    },
    /// Give a role in the console and the admin API: admin, support, auditor, or none.
    SetRole {
        #[arg(long)]
        login: String,
        #[arg(long)]
        role: String,
    },
}

fn line(u: &UserView) -> String {
    format!("{}\t{}\t{}\t{}\t{}", u.login, u.status.as_str(), u.email, u.user_type, u.role.as_deref().unwrap_or("-"))
}

fn time(t: Option<i64>) -> String {
    t.map(rfc3339).unwrap_or_else(|| "-".into())
}

pub async fn run(s: &Services, command: UserOpsCommand) -> anyhow::Result<()> {
    let cli = Actor::cli();
    let by = |login: &str| UserRef::Login(login.to_owned());
    match command {
        UserOpsCommand::List { q, login, email, name, user_type, group, status, limit, offset, sort } => {
            let query = UserQuery {
                login,
                email,
                name,
                user_type,
                group,
                status: status.as_deref().map(UserStatus::parse).transpose()?,
                q,
                sort: UserSort::parse(&sort)?,
                page: PageRequest::parse(limit, offset)?,
            };
            let page = users::search_users(s, &cli, &query).await?;
            for u in &page.items {
                println!("{}", line(u));
            }
            println!("{} of {} user(s) from {}", page.items.len(), page.total, page.offset);
        }
        UserOpsCommand::Show { login } => {
            let d = users::show_user(s, &cli, &by(&login)).await?;
            let u = &d.user;
            println!("login: {}\nid: {}\nstatus: {}", u.login, u.id, u.status.as_str());
            println!("email: {}{}", u.email, if u.email_verified { " (verified)" } else { "" });
            println!("name: {} {}\ntype: {}", u.given_name, u.family_name, u.user_type);
            println!("role: {}", u.role.as_deref().unwrap_or("-"));
            println!("locked until: {}", time(u.locked_until));
            println!("created: {}\nactivated: {}", rfc3339(u.created_at), time(u.activated_at));
            println!("password changed: {}", rfc3339(u.password_changed_at));
            for g in &d.groups {
                println!("group: {g}");
            }
            for e in &d.recent_sign_ins {
                println!("sign-in: {} {} {}", rfc3339(e.at), e.kind, e.ip);
            }
            for session in &d.sessions {
                println!("session: {} {} {}", session.sid, rfc3339(session.created_at), session.ip);
            }
        }
        UserOpsCommand::Update {
            login,
            email,
            given_name,
            family_name,
            phone_number,
            address,
            user_type,
            birth_date,
            identifiers,
            clear_identifiers,
        } => {
            let identifiers = if clear_identifiers {
                Some(Vec::new())
            } else if identifiers.is_empty() {
                None
            } else {
                Some(identifiers.iter().map(|p| idp::admin::split_identifier(p)).collect::<Result<Vec<_>, _>>()?)
            };
            let update = UserUpdate {
                email,
                given_name,
                family_name,
                phone_number,
                address,
                user_type,
                birth_date,
                identifiers,
            };
            users::update_user(s, &cli, &by(&login), &update).await?;
            println!("user {login} updated");
        }
        UserOpsCommand::Disable { login } => {
            users::disable_user(s, &cli, &by(&login)).await?;
            println!("user {login} disabled");
        }
        UserOpsCommand::Enable { login } => {
            users::enable_user(s, &cli, &by(&login)).await?;
            println!("user {login} enabled");
        }
        UserOpsCommand::Delete { login, yes } => {
            anyhow::ensure!(yes, "deleting {login} erases the account for good: add --yes");
            users::delete_user(s, &cli, &by(&login)).await?;
            println!("user {login} deleted");
        }
        UserOpsCommand::Unlock { login } => {
            users::unlock_user(s, &cli, &by(&login)).await?;
            println!("user {login} unlocked");
        }
        UserOpsCommand::ResetSecretQuestion { login } => {
            users::reset_secret_question(s, &cli, &by(&login)).await?;
            println!("secret question of {login} reset: the next sign-in asks for a new one");
        }
        UserOpsCommand::Sessions { login } => {
            for session in users::sessions_of_user(s, &cli, &by(&login)).await? {
                println!("{}\t{}\t{}\t{}", session.sid, rfc3339(session.created_at), session.ip, session.user_agent);
            }
        }
        UserOpsCommand::EndSessions { login, sid } => {
            let ended = users::end_user_sessions(s, &cli, &by(&login), sid.as_deref()).await?;
            println!("{ended} session(s) of {login} ended");
        }
        UserOpsCommand::Consents { login } => {
            for c in users::consents_of_user(s, &cli, &by(&login)).await? {
                println!("{}\t{}\t{}", c.client_id, c.scopes.join(" "), rfc3339(c.granted_at));
            }
        }
        UserOpsCommand::RevokeConsent { login, client } => {
            users::revoke_consent(s, &cli, &by(&login), &client).await?;
            println!("consent of {login} to {client} revoked");
        }
        UserOpsCommand::Grants { login } => {
            for g in users::grants_of_user(s, &cli, &by(&login)).await? {
                println!("{}\t{}\t{}\t{}", g.grant_id, g.client_id, g.scopes.join(" "), rfc3339(g.expires_at));
            }
        }
        UserOpsCommand::RevokeGrant { login, grant } => {
            users::revoke_grant(s, &cli, &by(&login), &grant).await?;
            println!("grant {grant} of {login} revoked");
        }
        UserOpsCommand::Events { login, limit, offset } => {
            let page = users::user_events(s, &cli, &by(&login), PageRequest::parse(limit, offset)?).await?;
            for e in &page.items {
                println!("{}", serde_json::to_string(e)?);
            }
        }
        UserOpsCommand::SetRole { login, role } => {
            let role = if role.trim() == "none" { None } else { Some(Role::parse(&role)?) };
            users::set_role(s, &cli, &by(&login), role).await?;
            println!("role of {login}: {}", role.map_or("none", Role::as_str));
        }
    }
    Ok(())
}
