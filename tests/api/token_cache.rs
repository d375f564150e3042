//! A SCIM token this process has read costs no store read on later requests, and a token
//! revoked here is refused at once, whichever repository revoked it.

use std::sync::Arc;

use muster::auth::ScimTokens;
use muster::ids::TenantId;
use muster::store::{EmbeddedTable, Table};

use crate::counting::CountingTable;

#[tokio::test]
async fn a_known_token_is_verified_without_a_read_and_refused_as_soon_as_it_is_revoked() {
    let counting = Arc::new(CountingTable::new(Arc::new(EmbeddedTable::in_memory())));
    let table: Arc<dyn Table> = counting.clone();
    let t = TenantId::parse("cache-test").unwrap();
    let tokens = ScimTokens::new(table.clone());
    let issued = tokens.issue(&t).await.unwrap();
    assert!(tokens.verify(&t, &issued.token).await.unwrap());
    let reads = counting.calls.lock().unwrap().reads;
    for _ in 0..20 {
        assert!(tokens.verify(&t, &issued.token).await.unwrap());
    }
    assert_eq!(
        counting.calls.lock().unwrap().reads,
        reads,
        "no read per request"
    );
    let forged = format!("{}x", issued.token);
    assert!(
        !tokens.verify(&t, &forged).await.unwrap(),
        "the secret still counts"
    );

    // The console and the CLI revoke through repositories of their own.
    assert!(
        ScimTokens::new(table.clone())
            .revoke(&t, &issued.id)
            .await
            .unwrap()
    );
    assert!(!tokens.verify(&t, &issued.token).await.unwrap());
}
