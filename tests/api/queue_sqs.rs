//! The SQS adapter of the Queue port against moto: a sent import message arrives with its
//! attributes, and one that keeps failing moves to the dead-letter queue.

use aws_sdk_sqs::Client;
use muster::queue::{ImportMessage, MAX_RECEIVES, Queue, SqsQueue, create_queue_if_missing};

fn endpoint() -> Option<String> {
    crate::store_dynamo::emulator_endpoint(module_path!())
}

fn client(endpoint: &str) -> Client {
    let creds = aws_sdk_sqs::config::Credentials::new("test", "test", None, None, "tests");
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(creds)
        .build();
    Client::from_conf(config)
}

#[tokio::test]
async fn an_import_message_arrives_with_its_attributes_and_a_failing_one_reaches_the_dead_letter_queue()
 {
    let Some(endpoint) = endpoint() else { return };
    let client = client(&endpoint);
    let name = format!("muster-test-{}", std::process::id());
    let url = create_queue_if_missing(&client, &name, 30).await.unwrap();
    assert_eq!(
        create_queue_if_missing(&client, &name, 30).await.unwrap(),
        url,
        "idempotent"
    );
    let queue = SqsQueue::new(client.clone(), url.clone());
    let tenant = muster::ids::TenantId::parse("acme-q1").unwrap();
    queue
        .send(ImportMessage {
            tenant: tenant.clone(),
            job: 7,
        })
        .await
        .unwrap();
    let mut receives = 0;
    for _ in 0..=MAX_RECEIVES + 2 {
        let got = client
            .receive_message()
            .queue_url(&url)
            .visibility_timeout(0)
            .message_attribute_names("All")
            .send()
            .await
            .unwrap();
        let Some(m) = got.messages().first() else {
            break;
        };
        receives += 1;
        let body: ImportMessage = serde_json::from_str(m.body().unwrap()).unwrap();
        assert_eq!(
            body,
            ImportMessage {
                tenant: tenant.clone(),
                job: 7
            }
        );
        let attrs = m.message_attributes().unwrap();
        assert_eq!(attrs["job"].string_value(), Some("7"));
        assert_eq!(attrs["tenant"].string_value(), Some("acme-q1"));
    }
    assert_eq!(
        receives, MAX_RECEIVES as usize,
        "received until the redrive policy moves it"
    );
    let dlq = client
        .get_queue_url()
        .queue_name(format!("{name}-dlq"))
        .send()
        .await
        .unwrap();
    let dead = client
        .receive_message()
        .queue_url(dlq.queue_url().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        dead.messages().len(),
        1,
        "the message is in the dead-letter queue"
    );
}

#[tokio::test]
async fn sent_invitations_arrive_one_message_each_on_the_notifications_queue() {
    let Some(endpoint) = endpoint() else { return };
    let client = client(&endpoint);
    let name = format!("muster-notify-{}", muster::ids::random_id());
    let url = create_queue_if_missing(&client, &name, 30).await.unwrap();
    let notifier = muster::queue::SqsNotifier::new(client.clone(), url.clone());
    let tenant = muster::ids::TenantId::parse("acme-n1").unwrap();
    let users: Vec<String> = (0..23).map(|i| format!("user-{i:02}")).collect();
    use muster::import::Notifier;
    notifier
        .invitations_sent(&tenant, "sales", &users)
        .await
        .unwrap();
    let mut seen = Vec::new();
    for _ in 0..10 {
        let got = client
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .send()
            .await
            .unwrap();
        if got.messages().is_empty() {
            break;
        }
        for m in got.messages() {
            let body: serde_json::Value = serde_json::from_str(m.body().unwrap()).unwrap();
            assert_eq!(body["type"], "invitation");
            assert_eq!(body["tenant"], "acme-n1");
            assert_eq!(body["community"], "sales");
            let user = body["user"].as_str().unwrap().to_owned();
            assert_eq!(body["id"], format!("acme-n1:sales:{user}"));
            let attrs = m.message_attributes().unwrap();
            assert_eq!(attrs["community"].string_value(), Some("sales"));
            seen.push(user);
            client
                .delete_message()
                .queue_url(&url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    seen.sort();
    assert_eq!(seen, users, "one message per invitation, none twice");
}
