//! The local server's own exposure: it answers only for its own host names (no DNS rebinding), and the
//! development token route exists only where it was switched on, for loopback callers only.

use std::sync::Arc;

use serde_json::json;
use vellum::app::App;
use vellum::crypto::SecretKey;
use vellum::host::local::{self, HostOptions, LocalServer};
use vellum::host::token::TokenKeys;
use vellum_tests::{Backend, TestApp};

fn port(app: &TestApp) -> u16 {
    app.base.rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_for_another_host_name_is_refused_on_the_embedded_store() {
    let app = TestApp::spawn(Backend::Embedded).await;
    let clinic = app.open_clinic("Rebinding").await;
    // A page on another site that re-points its own name at this machine sends its own name as Host.
    let foreign = format!("attacker.example:{}", port(&app));
    let claims = json!({"userId": "op-1", "role": "operator"});
    let minted = app.send("POST", "/v1/dev/token", None, Some(claims.clone()), &[("host", &foreign)]).await;
    assert_eq!(minted.status, 421, "{minted:?}");
    assert!(minted.body["token"].is_null());
    let read = app.send("GET", "/v1/clinic", Some(&clinic.admin), None, &[("host", &foreign)]).await;
    assert_eq!(read.status, 421);
    let wrong_port = format!("localhost:{}", port(&app).wrapping_add(1));
    assert_eq!(app.send("GET", "/v1/clinic", Some(&clinic.admin), None, &[("host", &wrong_port)]).await.status, 421);
    for own in [format!("localhost:{}", port(&app)), format!("127.0.0.1:{}", port(&app))] {
        assert_eq!(app.send("GET", "/v1/clinic", Some(&clinic.admin), None, &[("host", &own)]).await.status, 200);
        let minted = app.send("POST", "/v1/dev/token", None, Some(claims.clone()), &[("host", &own)]).await;
        assert_eq!(minted.status, 200, "{minted:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_url_host_reaches_the_api_but_never_mints_tokens_on_the_embedded_store() {
    let (records, _dir) = vellum_tests::embedded_records();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let options = HostOptions::new(port, Some("https://clinic.example/")).with_dev_tokens(true);
    let app = Arc::new(App::new(records, SecretKey::generate()));
    let server =
        LocalServer::serve(listener, local::router(app, TokenKeys::new(SecretKey::generate()), options)).unwrap();
    let client = reqwest::Client::new();
    let url = format!("http://{}/v1/dev/token", server.addr);
    let claims = json!({"userId": "op-1", "role": "operator"}).to_string();
    let mint = |host: &'static str| {
        client.post(&url).header("host", host).header("content-type", "application/json").body(claims.clone()).send()
    };
    assert_eq!(mint("clinic.example").await.unwrap().status(), 403, "a token only for a loopback name");
    let openapi = client.get(format!("http://{}/v1/openapi.json", server.addr)).header("host", "clinic.example");
    assert_eq!(openapi.send().await.unwrap().status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_dev_tokens_the_route_does_not_exist() {
    let (records, _dir) = vellum_tests::embedded_records();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = Arc::new(App::new(records, SecretKey::generate()));
    let options = HostOptions::new(port, None);
    let server =
        LocalServer::serve(listener, local::router(app, TokenKeys::new(SecretKey::generate()), options)).unwrap();
    let reply = reqwest::Client::new()
        .post(format!("http://{}/v1/dev/token", server.addr))
        .header("content-type", "application/json")
        .body(json!({"userId": "op-1", "role": "operator"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 401, "the path is an API path like any other: no token, no answer");
}

#[test]
fn the_aws_backend_refuses_to_start_with_dev_tokens() {
    use vellum::host::config::{Backend as Store, dev_tokens_setting};
    assert!(dev_tokens_setting(None, Store::Embedded).unwrap());
    assert!(!dev_tokens_setting(None, Store::Aws).unwrap());
    assert!(!dev_tokens_setting(Some("false"), Store::Embedded).unwrap());
    let refused = dev_tokens_setting(Some("true"), Store::Aws).unwrap_err().to_string();
    assert!(refused.contains("refused"), "{refused}");
    assert!(dev_tokens_setting(Some("yes"), Store::Embedded).is_err());
}

/// Sends only the head of a `PUT` (no body) and reads the answer; `None` if none came in five seconds.
async fn answer_to_a_head_without_body(addr: &str, path: &str, headers: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!("PUT {path} HTTP/1.1\r\nhost: {addr}\r\n{headers}\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buffer = vec![0u8; 4096];
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut buffer)).await.ok()?.ok()?;
    Some(String::from_utf8_lossy(&buffer[..read]).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_is_refused_on_its_url_before_its_body_is_read_on_the_embedded_store() {
    let app = TestApp::spawn(Backend::Embedded).await;
    let clinic = app.open_clinic("Uploads").await;
    let (nurse, _) = app.member(&clinic, vellum::domain::role::Role::Nurse).await;
    let patient = app.patient(&clinic, vellum_tests::patient_body("Ana", "Upload")).await;
    let body = json!({"contentType": "image/jpeg", "byteSize": 1000, "bodyArea": "face", "view": "front",
                      "capturedAt": "2026-11-20T15:00:00Z"});
    let created = app.post(&format!("/v1/patients/{}/photos", patient["id"].as_str().unwrap()), &nurse, body).await;
    let url = created.body["upload"]["url"].as_str().unwrap().to_string();
    let path = url.strip_prefix(&app.base).unwrap().to_string();
    let addr = app.base.strip_prefix("http://").unwrap();
    // 20 MB announced, nothing sent: a forged URL and a wrong size are answered at once.
    let forged = path.replace("signature=", "signature=00");
    let answer =
        answer_to_a_head_without_body(addr, &forged, "content-type: image/jpeg\r\ncontent-length: 20000000\r\n")
            .await
            .expect("answered without waiting for the body");
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    let answer = answer_to_a_head_without_body(addr, &path, "content-type: image/jpeg\r\ncontent-length: 20000000\r\n")
        .await
        .expect("answered without waiting for the body");
    assert!(answer.starts_with("HTTP/1.1 403") && answer.contains("size"), "{answer}");
}
