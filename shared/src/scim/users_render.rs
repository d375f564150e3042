//! Users as answered: `meta.location` and `meta.version`, with their `groups` and community
//! memberships when projected. A page of users is read together: each user's links (its
//! groups and memberships, one partition per user) at once, the names of all their groups in
//! one batch (as derivation reads them), each community's name from the process's cache.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::repo::render_owned;
use super::schema::MEMBERSHIP_SCHEMA;
use super::users::SUSPENDED;
use super::{Projection, ScimError, StoredResource, Users};
use crate::directory::derive::{UserLinks, group_names, links_many};
use crate::directory::is_active;
use crate::ids::TenantId;

impl Users {
    /// The user as answered under `base`, projected.
    pub async fn render(
        &self,
        t: &TenantId,
        user: &StoredResource,
        base: &str,
        projection: &Projection,
    ) -> Result<Value, ScimError> {
        let mut one = self
            .render_page(t, vec![user.clone()], base, projection)
            .await?;
        Ok(one.pop().expect("one user rendered"))
    }

    /// The users as answered under `base`, projected, in their order.
    pub async fn render_page(
        &self,
        t: &TenantId,
        users: Vec<StoredResource>,
        base: &str,
        projection: &Projection,
    ) -> Result<Vec<Value>, ScimError> {
        let want_groups = projection.includes("groups");
        let want_memberships = projection.includes_in(Some(MEMBERSHIP_SCHEMA), "memberships");
        let table = &**self.repo.table();
        let mut all_links = match want_groups || want_memberships {
            true => {
                let ids: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
                links_many(table, t, &ids).await?
            }
            false => Vec::new(),
        }
        .into_iter();
        let names = match want_groups {
            true => group_names(table, t, all_links.as_slice()).await?,
            false => HashMap::new(),
        };
        let mut out = Vec::with_capacity(users.len());
        for user in users {
            let active = is_active(&user.doc);
            let mut value = render_owned(user, base, "/Users");
            if let Some(user_links) = all_links.next() {
                if want_groups {
                    add_groups(&mut value, &user_links, &names, base);
                }
                if want_memberships {
                    self.add_memberships(&mut value, t, active, user_links, base)
                        .await?;
                }
            }
            out.push(projection.apply(value));
        }
        Ok(out)
    }

    /// The user's memberships under the membership schema (suspended unless `active`).
    async fn add_memberships(
        &self,
        value: &mut Value,
        t: &TenantId,
        active: bool,
        user_links: UserLinks,
        base: &str,
    ) -> Result<(), ScimError> {
        let mut memberships = Vec::new();
        for (m, _) in user_links.memberships {
            let status = if active {
                json!(m.status)
            } else {
                json!(SUSPENDED)
            };
            let mut entry = json!({
                "value": m.community,
                "$ref": format!("{base}/Communities/{}", m.community),
                "role": m.role,
                "status": status,
            });
            if let Some(name) = self.communities.name(t, &m.community).await? {
                entry["display"] = json!(name);
            }
            memberships.push(entry);
        }
        if !memberships.is_empty() {
            value[MEMBERSHIP_SCHEMA] = json!({ "memberships": memberships });
        }
        if value.get(MEMBERSHIP_SCHEMA).is_some()
            && let Some(Value::Array(schemas)) = value.get_mut("schemas")
            && !schemas.contains(&json!(MEMBERSHIP_SCHEMA))
        {
            schemas.push(json!(MEMBERSHIP_SCHEMA));
        }
        Ok(())
    }
}

/// The user's direct groups, each with its name when it has one.
fn add_groups(
    value: &mut Value,
    user_links: &UserLinks,
    names: &HashMap<String, Option<String>>,
    base: &str,
) {
    let groups: Vec<Value> = user_links
        .groups
        .iter()
        .map(|group| {
            let mut entry =
                json!({"value": group, "$ref": format!("{base}/Groups/{group}"), "type": "direct"});
            // A group without a name (or gone meanwhile) is listed without one.
            if let Some(Some(display)) = names.get(group)
                && !display.is_empty()
            {
                entry["display"] = json!(display);
            }
            entry
        })
        .collect();
    if !groups.is_empty() {
        value["groups"] = Value::Array(groups);
    }
}
