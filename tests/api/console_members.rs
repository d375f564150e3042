//! The console's member table, as a model: pages walk every member once in user-id order,
//! and search and filters keep exactly the members a plain scan would.

use muster::admin::Admin;
use muster::community::{Memberships, Role, Source, Status};
use muster::console::members::{MemberQuery, Origin, page};
use muster::ids::TenantId;

use crate::helpers::TestApp;

async fn community_of(app: &TestApp, n: usize) -> (TenantId, String) {
    let t = TenantId::parse(&app.acme.id).unwrap();
    let admin = Admin::new(app.table.clone());
    let c = admin.create_community(&t, "Engineering").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let memberships = Memberships::new(app.table.clone());
    for i in 0..n {
        let user = app.create_user(&format!("person{i:03}@acme.test")).await;
        let source = match i % 3 {
            0 => Source::File { role: Role::Member },
            1 => Source::Admin {
                role: Role::Contributor,
            },
            _ => Source::Group {
                group: format!("g{i}"),
                role: Role::Member,
            },
        };
        memberships.grant(&t, &user, &c, source).await.unwrap();
        if i % 4 == 0 {
            let users = [user];
            memberships
                .transition(&t, &c, &users, Status::Invited, Status::InvitationSent)
                .await
                .unwrap();
        }
    }
    (t, c)
}

/// Every row a query's pages give, following `next`.
async fn walk(app: &TestApp, t: &TenantId, c: &str, mut q: MemberQuery) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let p = page(&app.table, t, c, &q).await.unwrap();
        assert!(p.rows.len() <= q.limit);
        seen.extend(p.rows.iter().map(|r| r.email.clone()));
        match p.next {
            Some(next) => q.after = Some(next),
            None => return seen,
        }
    }
}

#[tokio::test]
async fn pages_visit_every_member_once_and_filters_keep_exactly_the_matching_ones() {
    let app = TestApp::new().await;
    let (t, c) = community_of(&app, 45).await;
    let all = walk(
        &app,
        &t,
        &c,
        MemberQuery {
            limit: 7,
            ..MemberQuery::default()
        },
    )
    .await;
    assert_eq!(all.len(), 45);
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 45, "no member twice");

    let everyone = page(
        &app.table,
        &t,
        &c,
        &MemberQuery {
            limit: 200,
            ..MemberQuery::default()
        },
    )
    .await
    .unwrap()
    .rows;
    for limit in [1, 4, 50] {
        for status in [None, Some(Status::Invited), Some(Status::InvitationSent)] {
            for origin in [
                None,
                Some(Origin::File),
                Some(Origin::Manual),
                Some(Origin::Group),
            ] {
                for search in [
                    "",
                    "person01",
                    "PERSON00",
                    "acme.test person02",
                    "person007@acme.test",
                ] {
                    let q = MemberQuery {
                        search: search.into(),
                        status,
                        origin,
                        limit,
                        ..MemberQuery::default()
                    };
                    let got = walk(&app, &t, &c, q).await;
                    let want: Vec<String> = everyone
                        .iter()
                        .filter(|r| status.is_none_or(|s| r.status == s))
                        .filter(|r| origin.is_none_or(|o| r.origins.contains(&o)))
                        .filter(|r| {
                            let hay =
                                format!("{} {} {}", r.name, r.email, r.matricule).to_lowercase();
                            search
                                .split_whitespace()
                                .all(|w| hay.contains(&w.to_lowercase()))
                        })
                        .map(|r| r.email.clone())
                        .collect();
                    assert_eq!(got, want, "{search:?} {status:?} {origin:?} by {limit}");
                }
            }
        }
    }
}
