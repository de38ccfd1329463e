//! Errors of the FHIR face as OperationOutcome: every problem the pipeline answers on a FHIR path is
//! turned into one, with an issue for each field it names.

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderValue, header};
use serde_json::{Value, json};

use super::{BASE_PATH, FHIR_JSON};

/// The FHIR issue type of an HTTP status.
fn issue_code(status: u16) -> &'static str {
    match status {
        400 => "invalid",
        401 => "login",
        403 => "forbidden",
        404 => "not-found",
        405 | 415 => "not-supported",
        409 | 412 | 428 => "conflict",
        410 => "deleted",
        413 => "too-costly",
        422 => "processing",
        429 => "throttled",
        503 => "transient",
        _ => "exception",
    }
}

/// An OperationOutcome of a problem+json body answered with `status`.
pub fn from_problem(status: u16, problem: &Value) -> Value {
    let code = issue_code(status);
    let severity = if status >= 500 { "fatal" } else { "error" };
    let detail = problem["detail"].as_str().or(problem["title"].as_str()).unwrap_or("the request failed");
    let mut issues: Vec<Value> = problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    let field = e["field"].as_str().unwrap_or("");
                    let message = e["message"].as_str().unwrap_or("");
                    let mut issue = json!({ "severity": severity, "code": code, "diagnostics": format!("{field} {message}").trim() });
                    if !field.is_empty() {
                        issue["expression"] = json!([field]);
                    }
                    issue
                })
                .collect()
        })
        .unwrap_or_default();
    if issues.is_empty() {
        issues.push(json!({ "severity": severity, "code": code, "diagnostics": detail }));
    }
    json!({ "resourceType": "OperationOutcome", "issue": issues })
}

/// Whether a request is for the FHIR face.
pub fn is_fhir_path(path: &str) -> bool {
    path == BASE_PATH || path.starts_with(&format!("{BASE_PATH}/"))
}

/// Middleware: a problem+json answer to a FHIR request becomes an OperationOutcome, its status and headers
/// kept.
pub async fn as_operation_outcome(req: Request, next: Next) -> Response {
    let fhir = is_fhir_path(req.uri().path());
    let response = next.run(req).await;
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !fhir || !is_problem {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
    let problem: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let outcome = from_problem(parts.status.as_u16(), &problem);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(outcome.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_field_error_is_an_issue_naming_its_path() {
        let problem = json!({"status": 400, "detail": "2 fields", "errors": [
            {"field": "patient", "message": "is required"}, {"field": "_count", "message": "must be a number"}]});
        let outcome = from_problem(400, &problem);
        assert_eq!(outcome["issue"].as_array().unwrap().len(), 2);
        assert_eq!(outcome["issue"][0]["expression"], json!(["patient"]));
        assert_eq!(outcome["issue"][0]["code"], "invalid");
        let outcome = from_problem(404, &json!({"detail": "no such resource"}));
        assert_eq!(outcome["issue"][0]["code"], "not-found");
        assert_eq!(outcome["issue"][0]["diagnostics"], "no such resource");
    }
}
