//! Creating a tenant ready to use: its record, a SCIM token, a first API client with scopes
//! `scim` and `imports`, and a first tenant administrator.

use serde::Serialize;

use super::{Admin, AdminError};
use crate::auth::{NewClient, NewTenant, Scope, Tenant};
use crate::directory::NewUser;

/// Everything a new tenant's administrator needs, shown once.
#[derive(Debug, Clone, Serialize)]
pub struct TenantCreated {
    /// The tenant's id.
    pub tenant_id: String,
    /// Its name.
    pub name: String,
    /// Its allowed e-mail domains.
    pub domains: Vec<String>,
    /// Path of its SCIM base (prefix it with the public URL).
    pub scim_base_url: String,
    /// The SCIM secret token (shown once).
    pub scim_token: String,
    /// The token's id, for revocation.
    pub scim_token_id: String,
    /// The first API client.
    pub client_id: String,
    /// Its secret (shown once).
    pub client_secret: String,
    /// The first tenant administrator (a user of the tenant).
    pub admin_user_id: String,
    /// That administrator's e-mail / userName.
    pub admin_email: String,
}

impl Admin {
    /// Creates a tenant with a SCIM token, an API client (`scim`, `imports`) and a first
    /// administrator whose e-mail is `admin_email`, by default `admin@` + the first domain
    /// (or `admin@<tenant id>.invalid` when the tenant has no domain).
    pub async fn create_tenant(
        &self,
        name: &str,
        domains: Vec<String>,
        admin_email: Option<String>,
    ) -> Result<TenantCreated, AdminError> {
        let tenant: Tenant = self
            .tenants
            .create(NewTenant {
                name: name.to_owned(),
                domains,
                // A new integration grants no access until an administrator turns it on.
                sync: false,
            })
            .await?;
        let t = &tenant.id;
        let admin_email = admin_email.unwrap_or_else(|| match tenant.domains.first() {
            Some(d) => format!("admin@{d}"),
            None => format!("admin@{t}.invalid"),
        });
        let user = NewUser {
            user_name: admin_email.clone(),
            ..NewUser::default()
        };
        let admin_user = self.users.create(t, user.record()).await?;
        self.add_admin(t, &admin_user.id, None).await?;
        let token = self.tokens.issue(t).await?;
        let client = self
            .clients
            .create(
                t,
                NewClient {
                    name: "default".into(),
                    scopes: vec![Scope::Scim, Scope::Imports],
                    allowed_ips: vec![],
                    acting_users: vec![],
                },
            )
            .await?;
        Ok(TenantCreated {
            tenant_id: t.to_string(),
            name: tenant.name.clone(),
            domains: tenant.domains.clone(),
            scim_base_url: format!("/tenants/{t}/scim/v2"),
            scim_token: token.token,
            scim_token_id: token.id,
            client_id: client.client_id,
            client_secret: client.client_secret,
            admin_user_id: admin_user.id,
            admin_email,
        })
    }
}
