//! The activity entry of every change an operator makes from the command line: which
//! commands are changes, and the entry each leaves in its tenant's log (actor
//! `operator (command line)`; the command and what it named, never a secret).

use muster::activity::{Activity, Event, Kind};

use crate::check::UserCommand;
use crate::console::ConsoleCommand;
use crate::directory::{AdminCommand, CommunityCommand, MappingCommand};
use crate::tenant::{ClientCommand, TenantCommand, TokenCommand};
use crate::{Command, TenantArgs};

/// A change about to be made: where its tenant's log is and what to write there.
pub struct Change {
    on: TenantArgs,
    action: &'static str,
    resource: String,
}

impl Change {
    fn new(on: &TenantArgs, action: &'static str, resource: impl Into<String>) -> Option<Self> {
        Some(Self {
            on: on.clone(),
            action,
            resource: resource.into(),
        })
    }

    /// Appends the entry to the tenant's activity log (after the command succeeded). A log
    /// that cannot be written is reported on stderr; the change itself stands.
    pub async fn record(self) {
        let Ok(t) = crate::tenant::tenant_id(&self.on.tenant) else {
            return;
        };
        let table = match crate::store::open_store(&self.on.data).await {
            Ok(table) => table,
            Err(e) => return eprintln!("muster: the activity log was not written: {e:#}"),
        };
        let event = Event::now(
            Kind::Admin,
            "operator (command line)",
            &format!("muster {}", self.action),
            &self.resource,
            "done",
        );
        Activity::new(table).record(&t, event).await;
    }
}

/// The change `command` makes to one tenant, `None` for commands that only read (or that
/// make a tenant, whose log starts with it).
pub fn change_of(command: &Command) -> Option<Change> {
    match command {
        Command::Tenant(TenantCommand::Set { on, .. }) => Change::new(on, "tenant set", ""),
        Command::Token(TokenCommand::Issue { on, name }) => Change::new(on, "token issue", name),
        Command::Token(TokenCommand::Revoke { on, id }) => Change::new(on, "token revoke", id),
        Command::Client(ClientCommand::Create { on, name, .. }) => {
            Change::new(on, "client create", name)
        }
        Command::Client(ClientCommand::Revoke { on, id }) => Change::new(on, "client revoke", id),
        Command::Community(CommunityCommand::Create { on, name }) => {
            Change::new(on, "community create", name)
        }
        Command::Mapping(MappingCommand::Set { on, community, .. }) => {
            Change::new(on, "mapping set", community)
        }
        Command::Mapping(MappingCommand::Remove { on, community, .. }) => {
            Change::new(on, "mapping remove", community)
        }
        Command::Admin(AdminCommand::Add { on, user, .. }) => Change::new(on, "admin add", user),
        Command::Console(ConsoleCommand::Link { on, user, .. }) => {
            Change::new(on, "console link", user)
        }
        Command::User(UserCommand::Purge { on, .. }) => Change::new(on, "user purge", ""),
        _ => None,
    }
}
