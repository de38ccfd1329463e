//! The deployment template held against the code: generated from the route table, one API route per route
//! on the function that serves it, a binary per function, and IAM actions equal to what each function
//! declares it needs. The OpenAPI document is committed beside it, held to the code the same way.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use serde_json::Value;
use vellum::deploy::{self, logical_name};
use vellum::http::routes::{self, Grant, ROUTES, TRIGGERS};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn committed() -> Value {
    let text = std::fs::read_to_string(root().join("infra/template.json")).expect("infra/template.json");
    serde_json::from_str(&text).expect("the template is JSON")
}

fn resources(template: &Value) -> &serde_json::Map<String, Value> {
    template["Resources"].as_object().expect("resources")
}

fn functions(template: &Value) -> HashMap<String, &Value> {
    resources(template)
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(name, r)| (name.clone(), r))
        .collect()
}

/// Holds a file generated from the code to what the code generates now; writes it instead when
/// `VELLUM_WRITE_GENERATED=1`.
fn assert_generated(relative: &str, generated: &str) {
    let path = root().join(relative);
    if std::env::var("VELLUM_WRITE_GENERATED").as_deref() == Ok("1") {
        std::fs::write(&path, generated).unwrap_or_else(|e| panic!("write {relative}: {e}"));
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "{relative} is out of date: run `VELLUM_WRITE_GENERATED=1 cargo test -p vellum-tests --test infra`"
    );
}

#[test]
fn the_committed_template_is_the_one_the_code_generates() {
    assert_generated("infra/template.json", &deploy::template_text());
}

/// Client teams generate their clients from this file without running a server.
#[test]
fn the_committed_openapi_document_is_the_one_the_server_serves() {
    let document = serde_json::to_string_pretty(&vellum::http::openapi::document()).expect("JSON") + "\n";
    assert_generated("openapi.json", &document);
}

/// The API's routes as its OpenAPI body holds them: (method, path) and the operation.
fn api_routes(template: &Value) -> Vec<((String, String), Value)> {
    let body = &resources(template)["HttpApi"]["Properties"]["DefinitionBody"];
    let mut routes = Vec::new();
    for (path, operations) in body["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            routes.push(((method.to_ascii_uppercase(), path.clone()), operation.clone()));
        }
    }
    routes
}

#[test]
fn every_route_has_exactly_one_function_and_api_route() {
    let template = committed();
    for (_, function) in functions(&template) {
        let binary = function["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
        for event in function["Properties"]["Events"].as_object().into_iter().flat_map(|e| e.values()) {
            let invoked = |invocation: fn(&vellum::http::routes::Invocation) -> bool| {
                TRIGGERS.iter().any(|t| t.function == binary && invocation(&t.invocation))
            };
            use vellum::http::routes::Invocation;
            match event["Type"].as_str() {
                Some("S3") => assert_eq!(binary, "photos-process"),
                Some("Schedule") => assert!(invoked(|i| matches!(i, Invocation::Schedule(_))), "{binary}"),
                Some("DynamoDB") => assert!(invoked(|i| *i == Invocation::AuditStream), "{binary}"),
                // The API's routes are in its OpenAPI body, not functions' events.
                other => panic!("{binary} has an event of type {other:?}"),
            }
        }
    }
    let mut served: Vec<(String, String)> = api_routes(&template).into_iter().map(|(route, _)| route).collect();
    served.sort();
    let mut declared: Vec<(String, String)> =
        ROUTES.iter().map(|r| (r.method.to_string(), r.path.to_string())).collect();
    declared.sort();
    assert_eq!(served, declared);
    let r = resources(&template);
    for route in ROUTES.iter() {
        let body = &r["HttpApi"]["Properties"]["DefinitionBody"];
        let operation = &body["paths"][route.path][route.method.to_ascii_lowercase()];
        let integration = &operation["x-amazon-apigateway-integration"];
        let function = logical_name(route.function);
        let uri = integration["uri"]["Fn::Sub"].as_str().unwrap();
        assert!(uri.contains(&format!("${{{function}.Arn}}/invocations")), "{route:?}: {uri}");
        assert_eq!(
            (integration["type"].as_str(), integration["payloadFormatVersion"].as_str()),
            (Some("aws_proxy"), Some("2.0"))
        );
        assert_eq!(operation["operationId"], route.name);
        // One permission for the API to invoke the function, for any of its routes and no other caller.
        let permission = &r[&format!("{function}InvokedByApi")]["Properties"];
        assert_eq!(permission["FunctionName"]["Ref"], function.as_str(), "{route:?}");
        assert_eq!(permission["Principal"], "apigateway.amazonaws.com");
        assert!(permission["SourceArn"]["Fn::Sub"].as_str().unwrap().ends_with(":${HttpApi}/*"));
    }
    let permissions = r.values().filter(|x| x["Type"] == "AWS::Lambda::Permission").count();
    assert_eq!(permissions, routes::functions().len() + 1, "one a function, and Cognito's of the token trigger");
}

#[test]
fn every_function_has_a_binary_and_every_binary_a_function() {
    let template = committed();
    let binaries: BTreeSet<String> = std::fs::read_dir(root().join("functions/src/bin"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().trim_end_matches(".rs").to_string())
        // The local server and the archive's verifier are tools, not functions.
        .filter(|name| !name.starts_with("vellum-"))
        .collect();
    let deployed: BTreeSet<String> = functions(&template)
        .values()
        .map(|f| {
            assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda");
            assert_eq!(f["Properties"]["Runtime"], "provided.al2023");
            f["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(deployed, binaries);
    let declared: BTreeSet<String> =
        routes::functions().into_iter().chain(TRIGGERS.iter().map(|t| t.function)).map(str::to_string).collect();
    assert_eq!(declared, binaries);
    // A route's function takes its routes from the table by its own name, at compile time.
    for function in routes::functions() {
        let source = std::fs::read_to_string(root().join(format!("functions/src/bin/{function}.rs"))).unwrap();
        assert!(source.contains(&format!("vellum::function_main!(\"{function}\");")), "{function}.rs");
    }
}

#[test]
fn a_function_that_builds_photo_or_archive_clients_at_start_is_given_their_bucket() {
    let template = committed();
    for function in routes::functions() {
        let served: Vec<routes::Served> = routes::served_by_function(function).into_iter().copied().collect();
        let env = &functions(&template)[&logical_name(function)]["Properties"]["Environment"]["Variables"];
        let given = |name: &str| env.get(name).is_some();
        let photos = routes::needs(&served, routes::Capability::Photos);
        assert_eq!(given("VELLUM_PHOTO_BUCKET") && given("VELLUM_PHOTO_KEY_ID"), photos, "{function}");
        assert_eq!(
            given("VELLUM_AUDIT_ARCHIVE_BUCKET"),
            routes::needs(&served, routes::Capability::Archive),
            "{function}"
        );
        assert!(given("VELLUM_CURSOR_KEY_SECRET"), "{function}");
    }
}

#[test]
fn the_stack_keeps_its_cursor_key_in_secrets_manager_and_only_the_functions_that_seal_read_it() {
    let template = committed();
    let secret = &resources(&template)["CursorKeySecret"];
    assert_eq!(secret["Type"], "AWS::SecretsManager::Secret");
    assert_eq!(secret["DeletionPolicy"], "Retain");
    let properties = &secret["Properties"];
    assert_eq!(properties["KmsKeyId"]["Fn::GetAtt"][0], "DataKey");
    // Generated by the stack unless a key is given (a stack first deployed with one keeps it).
    assert_eq!(properties["GenerateSecretString"]["Fn::If"][0], "HasCursorKey");
    assert_eq!(properties["GenerateSecretString"]["Fn::If"][2]["PasswordLength"], 64);
    assert_eq!(properties["SecretString"]["Fn::If"][1]["Ref"], "CursorKey");
    assert_eq!(template["Parameters"]["CursorKey"]["Default"], "");
    let all = routes::functions().into_iter().chain(TRIGGERS.iter().map(|t| t.function));
    for function in all {
        let name = logical_name(function);
        let env = &functions(&template)[&name]["Properties"]["Environment"]["Variables"];
        let given = env.get("VELLUM_CURSOR_KEY_SECRET").is_some();
        if given {
            assert_eq!(env["VELLUM_CURSOR_KEY_SECRET"]["Ref"], "CursorKeySecret", "{function}");
        }
        let reads = statements_of(&template, &format!("{name}Role"))
            .iter()
            .any(|s| s["Action"] == "secretsmanager:GetSecretValue");
        assert_eq!(reads, given, "{function}: the secret is read exactly where it is named");
        assert!(env.get("VELLUM_CURSOR_KEY").is_none(), "{function}: the key itself is never in the environment");
    }
    let statements =
        resources(&template)["DataKey"]["Properties"]["KeyPolicy"]["Statement"].as_array().unwrap().clone();
    let through_secrets = statements
        .iter()
        .find(|s| s["Sid"] == "FunctionRolesReadTheCursorKeyThroughSecretsManagerOnly")
        .expect("the roles decrypt the secret through Secrets Manager");
    assert_eq!(through_secrets["Action"], "kms:Decrypt");
    let condition = &through_secrets["Condition"];
    assert_eq!(condition["StringEquals"]["kms:ViaService"]["Fn::Sub"], "secretsmanager.${AWS::Region}.amazonaws.com");
    assert!(
        condition["StringLike"]["kms:EncryptionContext:SecretARN"]["Fn::Sub"]
            .as_str()
            .unwrap()
            .ends_with(":secret:${AWS::StackName}-cursor-key-*")
    );
}

/// The DynamoDB actions a role grants, per table resource.
fn granted(template: &Value, role: &str) -> HashMap<String, BTreeSet<String>> {
    let mut out: HashMap<String, BTreeSet<String>> = HashMap::new();
    let policies = resources(template)[role]["Properties"]["Policies"].as_array().unwrap();
    for policy in policies {
        for statement in policy["PolicyDocument"]["Statement"].as_array().unwrap() {
            if statement["Effect"] == "Deny" {
                // Only to narrow a grant that has no resource to name (text messages: every topic).
                assert_eq!(
                    (statement["Sid"].as_str(), statement["Action"].as_str()),
                    (Some("NoTopics"), Some("sns:Publish"))
                );
                continue;
            }
            assert_eq!(statement["Effect"], "Allow");
            let actions: Vec<&str> = match &statement["Action"] {
                Value::String(a) => vec![a.as_str()],
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            if statement["Resource"]["Fn::GetAtt"][1] == "StreamArn" {
                // Reading the audit table's stream (the archive): checked on its own below.
                assert_eq!(statement["Resource"]["Fn::GetAtt"][0], "AuditTable");
                assert!(
                    actions.iter().all(|a| [
                        "dynamodb:DescribeStream",
                        "dynamodb:GetRecords",
                        "dynamodb:GetShardIterator",
                        "dynamodb:ListStreams"
                    ]
                    .contains(a)),
                    "{role}: {actions:?}"
                );
                continue;
            }
            for action in actions.iter().filter(|a| a.starts_with("dynamodb:")) {
                for resource in statement["Resource"].as_array().unwrap() {
                    let table = resource["Fn::GetAtt"][0]
                        .as_str()
                        .map(str::to_string)
                        .or_else(|| {
                            resource["Fn::Sub"]
                                .as_str()
                                .map(|s| s.trim_start_matches("${").split('.').next().unwrap().to_string())
                        })
                        .expect("a table resource");
                    out.entry(table).or_default().insert(action.to_string());
                }
            }
            for action in &actions {
                assert!(!action.contains('*'), "{role} grants a wildcard action {action}");
                let service = action.split(':').next().unwrap_or("");
                assert!(
                    ["dynamodb", "logs", "xray", "s3", "kms", "sqs", "ses", "sns", "secretsmanager"].contains(&service),
                    "{role} grants {action}"
                );
                if service == "secretsmanager" {
                    // The cursor key, read and nothing else.
                    assert_eq!(*action, "secretsmanager:GetSecretValue", "{role}");
                    assert_eq!(statement["Resource"]["Ref"], "CursorKeySecret", "{role}");
                }
                if service == "kms" {
                    assert!(statement["Condition"].is_object(), "{role}: {action} without a condition");
                }
                if *action == "s3:ListBucket" {
                    let prefix = statement["Condition"]["StringLike"]["s3:prefix"].as_str();
                    assert!(
                        matches!(prefix, Some("photos/*" | "audit/*" | "exports/usage/*")),
                        "{role} lists only photos/, or the archive's audit/ or exports/usage/"
                    );
                } else if service == "s3" {
                    for resource in statement["Resource"].as_array().unwrap() {
                        let arn = resource["Fn::Sub"].as_str().unwrap();
                        let photos = arn.ends_with("/quarantine/*") || arn.ends_with("/photos/*");
                        // Patients' exports: written and deleted by the worker, signed for download by the API.
                        let exports = arn.ends_with("-photos-${AWS::AccountId}/exports/*");
                        // The archive is only ever added to and read: Object Lock keeps every version.
                        let archive = (arn.ends_with("${AuditArchiveBucket}/audit/*")
                            || arn.ends_with("${AuditArchiveBucket}/exports/usage/*"))
                            && matches!(*action, "s3:PutObject" | "s3:GetObject");
                        assert!(photos || archive || exports, "{role}: {action} {arn}");
                    }
                }
            }
        }
    }
    out
}

#[test]
fn each_functions_iam_actions_equal_what_the_code_declares() {
    let template = committed();
    let declared = routes::functions()
        .into_iter()
        .map(|f| (f, deploy::function_operations(f)))
        .chain(TRIGGERS.iter().map(|t| (t.function, t.access.to_vec())));
    for (function, ops) in declared {
        let role = format!("{}Role", logical_name(function));
        let grants = granted(&template, &role);
        let mut expected: HashMap<String, BTreeSet<String>> = HashMap::new();
        for (table, op) in ops {
            expected
                .entry(deploy::table_resource(table).to_string())
                .or_default()
                .insert(deploy::dynamodb_action(op).into());
        }
        assert_eq!(grants, expected, "{function}");
        // Nobody updates an audit event; only the retention job removes any (the archive checks each).
        let audit = grants.get("AuditTable").cloned().unwrap_or_default();
        let retires = function == "audit-retire";
        assert!(
            audit
                .iter()
                .all(|a| a == "dynamodb:PutItem" || a == "dynamodb:Query" || (retires && a == "dynamodb:DeleteItem")),
            "{function} may change audit events"
        );
        assert_eq!(audit.contains("dynamodb:DeleteItem"), retires, "{function}");
        let served = routes::by_function(function);
        let is_read_only = !served.is_empty() && served.iter().all(|r| r.method == "GET");
        if is_read_only {
            let records = grants.get("RecordsTable").cloned().unwrap_or_default();
            // A patient's link routes count each request against its address, and a clinic's metered
            // routes against its burst quota (one counter update each); a chart's reads update nothing.
            let counted = served.iter().any(|r| r.is_public() || vellum::metering::counts_against_quota(r));
            assert!(
                records.iter().all(|a| a == "dynamodb:GetItem"
                    || a == "dynamodb:Query"
                    || (counted && a == "dynamodb:UpdateItem")),
                "{function} is read-only"
            );
            let chart_reads = served.iter().all(|r| r.chart.is_some() || r.name == "chart.read");
            assert!(!(chart_reads && records.contains("dynamodb:UpdateItem")), "{function} reads a chart");
        }
        let fn_role = &functions(&template)[&logical_name(function)]["Properties"]["Role"]["Fn::GetAtt"][0];
        assert_eq!(fn_role, &Value::String(role.clone()), "{function} runs with its own role");
    }
}

/// The S3 actions a role grants, as `action prefix` pairs.
fn s3_grants(template: &Value, role: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for policy in resources(template)[role]["Properties"]["Policies"].as_array().unwrap() {
        for statement in policy["PolicyDocument"]["Statement"].as_array().unwrap() {
            let actions: Vec<&str> = match &statement["Action"] {
                Value::String(a) => vec![a.as_str()],
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            for action in actions.iter().filter(|a| a.starts_with("s3:")) {
                if *action == "s3:ListBucket" {
                    // On the bucket itself, narrowed to a prefix by its condition.
                    let prefix = statement["Condition"]["StringLike"]["s3:prefix"].as_str().unwrap();
                    out.insert(format!("{action} {}", prefix.trim_end_matches("/*")));
                    continue;
                }
                for resource in statement["Resource"].as_array().unwrap() {
                    let prefix = resource["Fn::Sub"].as_str().unwrap().rsplit('/').nth(1).unwrap();
                    out.insert(format!("{action} {prefix}"));
                }
            }
        }
    }
    out
}

#[test]
fn photo_functions_reach_only_their_prefixes_and_keys_only_under_a_photo_context() {
    let template = committed();
    let expected = |function: &str| -> BTreeSet<String> {
        let grants = routes::TRIGGERS
            .iter()
            .find(|t| t.function == function)
            .map(|t| t.grants.to_vec())
            .unwrap_or_else(|| deploy::function_grants(function));
        let mut out = BTreeSet::new();
        for grant in grants {
            let pairs: &[(&str, &str)] = match grant {
                Grant::PresignQuarantine => &[("s3:PutObject", "quarantine")],
                Grant::DrainQuarantine => &[("s3:GetObject", "quarantine"), ("s3:DeleteObject", "quarantine")],
                Grant::WritePhotos => &[("s3:PutObject", "photos")],
                Grant::ReadPhotos => &[("s3:GetObject", "photos")],
                Grant::DeletePhotos => &[("s3:DeleteObject", "photos"), ("s3:DeleteObject", "quarantine")],
                Grant::ListPhotos => &[("s3:ListBucket", "photos")],
                Grant::ArchiveAudit => &[("s3:PutObject", "audit")],
                Grant::ReadAuditArchive => &[("s3:ListBucket", "audit"), ("s3:GetObject", "audit")],
                // (An object grant shows its last folder: `exports/usage/*` as `usage`.)
                Grant::ExportUsage => {
                    &[("s3:ListBucket", "exports/usage"), ("s3:GetObject", "usage"), ("s3:PutObject", "usage")]
                }
                Grant::PresignExports => &[("s3:GetObject", "exports")],
                Grant::WriteExports => &[("s3:PutObject", "exports"), ("s3:DeleteObject", "exports")],
                Grant::GenerateDataKey | Grant::DecryptDataKey | Grant::SendEmail | Grant::SendSms => &[],
            };
            out.extend(pairs.iter().map(|(a, p)| format!("{a} {p}")));
        }
        out
    };
    let all = routes::functions().into_iter().chain(TRIGGERS.iter().map(|t| t.function));
    for function in all {
        let role = format!("{}Role", logical_name(function));
        assert_eq!(s3_grants(&template, &role), expected(function), "{function}");
    }
    assert_eq!(s3_grants(&template, "PhotosGetRole"), ["s3:GetObject photos".to_string()].into());
    let process = &resources(&template)["PhotosProcess"]["Properties"];
    assert_eq!(process["DeadLetterQueue"]["TargetArn"]["Fn::GetAtt"][0], "DeadLetterQueue");
    assert_eq!(process["Events"]["Upload"]["Properties"]["Filter"]["S3Key"]["Rules"][0]["Value"], "quarantine/");
    let statements =
        resources(&template)["PhotosProcessRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap()
            .clone();
    let envelope = statements.iter().find(|s| s["Sid"] == "PhotoDataKeysUnderAPhotoContext").expect("data keys");
    assert_eq!(envelope["Action"], serde_json::json!(["kms:GenerateDataKey"]), "the processing never decrypts");
    assert_eq!(
        envelope["Condition"]["ForAllValues:StringEquals"]["kms:EncryptionContextKeys"],
        serde_json::json!(["clinicId", "patientId", "photoId"])
    );
    // ForAllValues alone admits a subset (only clinicId): each key must also be present and non-empty.
    for key in ["clinicId", "patientId", "photoId"] {
        assert_eq!(envelope["Condition"]["StringLike"][format!("kms:EncryptionContext:{key}")], "?*", "{key}");
    }
    // A processing run that loses the race to commit deletes the renditions it wrote.
    assert!(s3_grants(&template, "PhotosProcessRole").contains("s3:DeleteObject photos"));
    // The audit archive reads the audit table's stream in order, sends what keeps failing to the dead
    // letters, may only add objects under audit/ (Object Lock keeps every version), and its tamper metric
    // has an alarm.
    let archive = &resources(&template)["AuditArchive"]["Properties"];
    let stream = &archive["Events"]["AuditStream"]["Properties"];
    assert_eq!(stream["Stream"]["Fn::GetAtt"], serde_json::json!(["AuditTable", "StreamArn"]));
    assert_eq!(stream["BisectBatchOnFunctionError"], true);
    assert_eq!(stream["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0], "DeadLetterQueue");
    assert_eq!(s3_grants(&template, "AuditArchiveRole"), ["s3:PutObject audit".to_string()].into());
    let tamper = &resources(&template)["AuditTamperingAlarm"]["Properties"];
    assert_eq!((tamper["Namespace"].as_str(), tamper["MetricName"].as_str()), (Some("Vellum"), Some("AuditTampering")));
    // The daily sweep lists only photos/, deletes what no record names, and never reads a photo.
    let sweep = &resources(&template)["PhotosSweep"]["Properties"];
    assert_eq!(sweep["Events"]["Schedule"]["Properties"]["Schedule"], "rate(1 day)");
    assert_eq!(sweep["DeadLetterQueue"]["TargetArn"]["Fn::GetAtt"][0], "DeadLetterQueue");
    let sweep_grants = s3_grants(&template, "PhotosSweepRole");
    assert!(sweep_grants.contains("s3:ListBucket photos") && !sweep_grants.iter().any(|g| g.contains("GetObject")));
}

/// Every statement of a role's policies.
fn statements_of(template: &Value, role: &str) -> Vec<Value> {
    resources(template)[role]["Properties"]["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().cloned().unwrap_or_default())
        .collect()
}

#[test]
fn only_the_dispatcher_sends_messages_from_the_one_sender_and_to_phone_numbers_only() {
    let template = committed();
    let all = routes::functions().into_iter().chain(TRIGGERS.iter().map(|t| t.function));
    for function in all {
        let role = format!("{}Role", logical_name(function));
        let sends = statements_of(&template, &role).iter().any(|s| {
            let actions = s["Action"].to_string();
            s["Effect"] == "Allow" && (actions.contains("ses:") || actions.contains("sns:"))
        });
        assert_eq!(sends, function == "messages-dispatch", "{function}");
    }
    let statements = statements_of(&template, "MessagesDispatchRole");
    let by_sid = |sid: &str| statements.iter().find(|s| s["Sid"] == sid).cloned().unwrap_or_else(|| panic!("{sid}"));
    let email = by_sid("SendEmailFromTheSender");
    assert_eq!(email["Action"], "ses:SendEmail");
    assert!(email["Resource"]["Fn::Sub"].as_str().unwrap().ends_with(":identity/${MessagesIdentity}"));
    assert_eq!(email["Condition"]["StringEquals"]["ses:FromAddress"]["Ref"], "MessagesFrom");
    let topics = by_sid("NoTopics");
    assert_eq!((topics["Effect"].as_str(), topics["Action"].as_str()), (Some("Deny"), Some("sns:Publish")));
    assert_eq!(by_sid("SendTextMessages")["Action"], "sns:Publish");
    let dispatch = &resources(&template)["MessagesDispatch"]["Properties"];
    assert_eq!(dispatch["Events"]["Schedule"]["Properties"]["Schedule"], "rate(1 minute)");
    assert_eq!(dispatch["DeadLetterQueue"]["TargetArn"]["Fn::GetAtt"][0], "DeadLetterQueue");
    let env = &dispatch["Environment"]["Variables"];
    assert_eq!(
        (env["VELLUM_MESSAGES_FROM"]["Ref"].as_str(), env["VELLUM_CURSOR_KEY_SECRET"]["Ref"].as_str()),
        (Some("MessagesFrom"), Some("CursorKeySecret"))
    );
}

#[test]
fn browsers_can_upload_to_the_photo_bucket_from_the_apps_and_the_patients_page() {
    let template = committed();
    let rules = &resources(&template)["PhotoBucket"]["Properties"]["CorsConfiguration"]["CorsRules"];
    let rule = &rules[0];
    assert_eq!(rules.as_array().map(Vec::len), Some(1));
    assert_eq!(rule["AllowedMethods"], serde_json::json!(["PUT"]), "uploads only: nothing is read cross-origin");
    assert_eq!(rule["AllowedHeaders"], serde_json::json!(["content-type"]), "the signed header a browser sets");
    let origins = rule["AllowedOrigins"].to_string();
    assert!(origins.contains(r#"{"Ref":"AllowedOrigins"}"#), "the staff apps: {origins}");
    assert!(origins.contains("${HttpApi}.execute-api"), "the patient's page on the API's domain: {origins}");
    assert!(origins.contains(r#"{"Ref":"PublicUrl"}"#), "the patient's page on the public URL: {origins}");
}

#[test]
fn the_log_service_uses_the_key_only_for_this_account() {
    let template = committed();
    let statements =
        resources(&template)["DataKey"]["Properties"]["KeyPolicy"]["Statement"].as_array().unwrap().clone();
    let logs = statements.iter().find(|s| s["Sid"] == "LogsEncryptTheirGroups").expect("the logs statement");
    assert_eq!(logs["Condition"]["StringEquals"]["aws:SourceAccount"]["Ref"], "AWS::AccountId");
    assert!(logs["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"].as_str().unwrap().contains("${AWS::AccountId}"));
}

#[test]
fn links_point_at_the_configured_public_url() {
    let template = committed();
    let function = &functions(&template)["InvitationsCreate"];
    assert_eq!(function["Properties"]["Environment"]["Variables"]["VELLUM_PUBLIC_URL"]["Ref"], "PublicUrl");
}

#[test]
fn only_the_patients_link_routes_go_without_the_jwt_authorizer() {
    let template = committed();
    let api = &resources(&template)["HttpApi"]["Properties"];
    // No default authorizer: SAM's transform would put it on the link routes too.
    assert!(api["Auth"]["DefaultAuthorizer"].is_null());
    assert!(api["Auth"]["Authorizers"]["CognitoJwt"]["JwtConfiguration"].is_object());
    for route in ROUTES.iter() {
        let operation = &api["DefinitionBody"]["paths"][route.path][route.method.to_ascii_lowercase()];
        let expected =
            if route.is_public() { serde_json::json!([]) } else { serde_json::json!([{ "CognitoJwt": [] }]) };
        assert_eq!(operation["security"], expected, "{route:?}");
    }
}

#[test]
fn data_stores_are_protected_as_the_design_requires() {
    let template = committed();
    let r = resources(&template);
    for table in ["RecordsTable", "AuditTable"] {
        let p = &r[table]["Properties"];
        assert_eq!(p["BillingMode"], "PAY_PER_REQUEST");
        assert_eq!(p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], true);
        assert_eq!(p["DeletionProtectionEnabled"], true);
        assert_eq!(p["SSESpecification"]["KMSMasterKeyId"]["Fn::GetAtt"][0], "DataKey");
    }
    assert!(r["RecordsTable"]["Properties"]["StreamSpecification"].is_object());
    // Nothing expires an audit event, and every change to one is seen on its stream, old image included.
    let audit = &r["AuditTable"]["Properties"];
    assert!(audit.get("TimeToLiveSpecification").is_none(), "no TTL on the audit table");
    assert_eq!(audit["StreamSpecification"]["StreamViewType"], "NEW_AND_OLD_IMAGES");
    assert_eq!(r["RecordsTable"]["Properties"]["TimeToLiveSpecification"]["Enabled"], true);
    assert_eq!(
        r["AuditArchiveBucket"]["Properties"]["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]["Mode"],
        "COMPLIANCE"
    );
    assert_eq!(
        r["AuditArchiveBucket"]["Properties"]["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]["Years"],
        6
    );
    let rules = r["PhotoBucket"]["Properties"]["LifecycleConfiguration"]["Rules"].as_array().unwrap();
    assert!(rules.iter().any(|rule| rule["Prefix"] == "quarantine/" && rule["ExpirationInDays"] == 1));
    // A patient's export is deleted by its worker after seven days; the bucket's rule is the backstop.
    assert!(rules.iter().any(|rule| rule["Prefix"] == "exports/" && rule["ExpirationInDays"] == 8));
    assert_eq!(r["DataKey"]["Properties"]["EnableKeyRotation"], true);
    let pool = &r["UserPool"]["Properties"];
    assert_eq!(pool["MfaConfiguration"], "ON");
    assert_eq!(pool["LambdaConfig"]["PreTokenGenerationConfig"]["LambdaVersion"], "V2_0");
}

#[test]
fn the_stack_stays_well_within_cloudformations_resource_limit() {
    // SAM adds a resource or two per event (a schedule's rule and permission, a stream's mapping) to the
    // resources written here; CloudFormation stops at 500. The API's routes are in its OpenAPI body, with one
    // permission per function rather than one per route; tests/sam/check.py counts SAM's own output (419
    // of what counts 413 here). 440 here keeps some 55 below the limit.
    let template = committed();
    let events: usize =
        functions(&template).values().map(|f| f["Properties"]["Events"].as_object().map_or(0, |e| e.len())).sum();
    let total = resources(&template).len() + events;
    assert!(total <= 440, "{total} resources after the SAM transform: group routes into fewer functions");
}

#[test]
fn the_readme_gives_every_parameter_with_its_default() {
    let template = committed();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for (name, parameter) in template["Parameters"].as_object().unwrap() {
        let row = readme
            .lines()
            .find(|line| line.split('|').nth(1).is_some_and(|cell| cell.contains(&format!("`{name}`"))))
            .unwrap_or_else(|| panic!("the README's parameter table has no row for {name}"));
        let default = match &parameter["Default"] {
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            _ => continue,
        };
        if !default.is_empty() {
            assert!(row.contains(&default), "the README's row for {name} gives its default {default}: {row}");
        }
    }
}

#[test]
fn the_readme_lists_every_safety_rule_with_its_sources() {
    use vellum::domain::safety::rules::RULES;
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let rules = RULES.rules.iter().map(|r| (&r.id, r.severity, &r.sources));
    let standing = RULES.standing.iter().map(|s| (&s.id, s.severity, &s.sources));
    for (id, severity, sources) in rules.chain(standing) {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{id}` |")))
            .unwrap_or_else(|| panic!("the README's rule tables have no row for {id}"));
        assert!(row.contains(&format!("| {severity} |")), "{row}");
        for url in sources.iter().filter_map(|c| RULES.sources[&c.source].url.as_deref()) {
            assert!(row.contains(url), "the README's row for {id} lacks its source {url}");
        }
    }
}
