//! The sample deployment's events (`events/`): reading them, sending one to its function in-process, and the
//! sample clinic whose administrator the staff events' caller is.

use std::path::PathBuf;
use std::sync::Arc;

use http::Request;
use serde_json::Value;
use tower::ServiceExt;
use vellum::app::{App, PhotoPorts};
use vellum::crypto::SecretKey;
use vellum::http::{pipeline, routes};
use vellum::ids::SequenceIds;
use vellum::store::Records;

/// The sample clinic every staff event's caller belongs to.
pub const CLINIC: &str = "01JD0000000000000000000001";
/// The sample patient the patient and chart events name.
pub const PATIENT: &str = "01JD0000000000000000000002";
/// The staff invitation code the sample join events use.
pub const SAMPLE_STAFF_CODE: &str = "SampleStaffCode0000000000000000000000000000";

pub fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events")
}

/// The sample event `case` of `function`.
pub fn read(function: &str, case: &str) -> String {
    let path = events_dir().join(function).join(format!("{case}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The cursor key every function of the sample deployment shares (the template's `CursorKey`).
pub fn deployment_key() -> SecretKey {
    SecretKey::from_slice(&[7; 32]).expect("32 bytes")
}

/// Sends one API Gateway event to its function's router; `next_id` is the id the call will create.
pub async fn invoke(
    records: Arc<dyn Records>,
    photos: PhotoPorts,
    function: &str,
    case: &str,
    next_id: Option<&str>,
) -> (u16, Value) {
    let served = routes::served_by_function(function);
    assert!(!served.is_empty(), "no route for {function}");
    let ids = next_id.map(|id| id.parse().expect("ulid")).into_iter();
    let app = App::new(records, deployment_key())
        .with_ids(Arc::new(SequenceIds::new(ids)))
        .with_archive(photos.blobs.clone())
        .with_photos(photos);
    let request: Request<lambda_http::Body> =
        lambda_http::request::from_str(&read(function, case)).expect("a valid API Gateway v2 event");
    let response = pipeline::router(Arc::new(app), served).oneshot(request).await.expect("infallible");
    let status = response.status().as_u16();
    let media_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let bytes = crate::body_bytes(response).await;
    if media_type == "image/jpeg" {
        let image = image::load_from_memory(&bytes).expect("a JPEG");
        return (status, serde_json::json!({"width": image.width(), "height": image.height()}));
    }
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// Moves the staff invitation an answer drew to the code the sample join events present.
pub async fn adopt_sample_staff_code(records: &dyn Records, answer: &Value) {
    use vellum::domain::forms::invitation::token_hash;
    use vellum::domain::keys::{STAFF_CODE, staff_code_pk};
    use vellum::store::{Cond, Key, Table, Write};
    let Some(code) = answer["adminInvitationCode"].as_str().or(answer["code"].as_str()) else { return };
    let drawn = Key::new(staff_code_pk(&token_hash(code)), STAFF_CODE);
    let mut item = records.get(Table::Records, &drawn).await.unwrap().expect("the staff invitation");
    item.insert("PK".into(), staff_code_pk(&token_hash(SAMPLE_STAFF_CODE)).into());
    let moved = vec![
        Write::put(Table::Records, item, Cond::NotExists),
        Write::Delete { table: Table::Records, key: drawn, cond: Cond::Exists },
    ];
    records.transact(moved).await.unwrap();
}

/// Opens the sample clinic and has its administrator and its nurse join it, as the first sample events do:
/// after this, the staff events' callers are active members of [`CLINIC`].
pub async fn open_sample_clinic(records: Arc<dyn Records>, photos: PhotoPorts) {
    let steps = [
        ("clinics-create", "success", 201, Some(CLINIC)),
        ("staff-join", "success", 200, None),
        ("staff-create", "success", 201, None),
        ("staff-join", "nurse", 200, None),
    ];
    for (function, case, expected, next_id) in steps {
        let (status, answer) = invoke(records.clone(), photos.clone(), function, case, next_id).await;
        assert_eq!(status, expected, "{function}/{case}: {answer}");
        adopt_sample_staff_code(records.as_ref(), &answer).await;
    }
}
