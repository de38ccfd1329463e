//! The deployment template, generated from the route table: one function and least-privilege role per
//! function, one API route per route, so the template and the code cannot drift apart.
//! `infra/template.json` is its output.

use serde_json::{Map, Value, json};

use crate::http::routes::{self, Grant, Invocation, Op, TRIGGERS};
use crate::store::Table;
use crate::store::schema;

/// The DynamoDB action an operation needs.
pub fn dynamodb_action(op: Op) -> &'static str {
    match op {
        Op::Get => "dynamodb:GetItem",
        Op::Query => "dynamodb:Query",
        Op::Put => "dynamodb:PutItem",
        Op::Update => "dynamodb:UpdateItem",
        Op::Delete => "dynamodb:DeleteItem",
    }
}

/// The logical id of a table in the template.
pub fn table_resource(table: Table) -> &'static str {
    match table {
        Table::Records => "RecordsTable",
        Table::Audit => "AuditTable",
    }
}

/// `patients-get` → `PatientsGet`.
pub fn logical_name(function: &str) -> String {
    function
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

fn sub(text: &str) -> Value {
    json!({ "Fn::Sub": text })
}

fn reference(name: &str) -> Value {
    json!({ "Ref": name })
}

fn arn_of(name: &str) -> Value {
    json!({ "Fn::GetAtt": [name, "Arn"] })
}

/// Table actions a function's role grants, grouped per table (sorted, for a stable template).
pub fn table_actions(ops: &[(Table, Op)]) -> Vec<(Table, Vec<&'static str>)> {
    Table::ALL
        .iter()
        .filter_map(|&table| {
            let mut actions: Vec<&str> =
                ops.iter().filter(|(t, _)| *t == table).map(|(_, op)| dynamodb_action(*op)).collect();
            actions.sort();
            actions.dedup();
            (!actions.is_empty()).then_some((table, actions))
        })
        .collect()
}

/// The photo bucket's name: fixed (not generated) so that function roles and settings can name it without
/// depending on the bucket, whose upload events depend on the processing function.
fn photo_bucket_name() -> &'static str {
    "${AWS::StackName}-photos-${AWS::AccountId}"
}

/// The objects a grant covers, by key prefix of the photo bucket.
fn photo_objects(prefixes: &[&str]) -> Vec<Value> {
    prefixes.iter().map(|p| sub(&format!("arn:${{AWS::Partition}}:s3:::{}/{p}*", photo_bucket_name()))).collect()
}

/// The audit archive's bucket (which also holds the billing export).
fn archive_bucket() -> Value {
    sub("arn:${AWS::Partition}:s3:::${AuditArchiveBucket}")
}

/// Listing `bucket`, narrowed to the keys under `prefix` (a folder, ending in `/`).
fn list_statement(sid: &str, bucket: Value, prefix: &str) -> Value {
    json!({
        "Sid": sid,
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": bucket,
        "Condition": { "StringLike": { "s3:prefix": format!("{prefix}*") } },
    })
}

/// The encryption context every photo data key is bound to: all three, nothing else.
pub const PHOTO_CONTEXT_KEYS: [&str; 3] = ["clinicId", "patientId", "photoId"];

/// The IAM statements of the photo grants: bucket prefixes, data keys only under a photo's encryption
/// context, and the bucket's own SSE-KMS use of the key only through S3.
fn grant_statements(grants: &[Grant]) -> Vec<Value> {
    let mut statements = Vec::new();
    let s3 = |sid: &str, actions: &[&str], prefixes: &[&str]| {
        Some(json!({ "Sid": sid, "Effect": "Allow", "Action": actions, "Resource": photo_objects(prefixes) }))
    };
    for grant in grants {
        let statement = match grant {
            Grant::PresignQuarantine => s3("SignUploadsIntoQuarantine", &["s3:PutObject"], &["quarantine/"]),
            Grant::DrainQuarantine => s3("DrainQuarantine", &["s3:GetObject", "s3:DeleteObject"], &["quarantine/"]),
            Grant::WritePhotos => s3("WriteSealedPhotos", &["s3:PutObject"], &["photos/"]),
            Grant::ReadPhotos => s3("ReadSealedPhotos", &["s3:GetObject"], &["photos/"]),
            Grant::DeletePhotos => s3("DeletePhotos", &["s3:DeleteObject"], &["photos/", "quarantine/"]),
            Grant::ListPhotos => Some(list_statement(
                "ListSealedPhotos",
                sub(&format!("arn:${{AWS::Partition}}:s3:::{}", photo_bucket_name())),
                "photos/",
            )),
            Grant::ArchiveAudit => Some(json!({
                "Sid": "WriteAuditArchive",
                "Effect": "Allow",
                "Action": ["s3:PutObject"],
                "Resource": [sub("arn:${AWS::Partition}:s3:::${AuditArchiveBucket}/audit/*")],
            })),
            Grant::ReadAuditArchive => {
                statements.push(list_statement("ListAuditArchive", archive_bucket(), "audit/"));
                Some(json!({
                    "Sid": "ReadAuditArchive",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject"],
                    "Resource": [sub("arn:${AWS::Partition}:s3:::${AuditArchiveBucket}/audit/*")],
                }))
            }
            Grant::ExportUsage => {
                // Listing lets a missing month's file read as missing (404), not as refused (403).
                statements.push(list_statement("ListUsageExports", archive_bucket(), "exports/usage/"));
                Some(json!({
                    "Sid": "WriteUsageExports",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:PutObject"],
                    "Resource": [sub("arn:${AWS::Partition}:s3:::${AuditArchiveBucket}/exports/usage/*")],
                }))
            }
            Grant::SendEmail => Some(json!({
                "Sid": "SendEmailFromTheSender",
                "Effect": "Allow",
                "Action": "ses:SendEmail",
                "Resource": sub("arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${MessagesIdentity}"),
                "Condition": { "StringEquals": { "ses:FromAddress": reference("MessagesFrom") } },
            })),
            Grant::SendSms => {
                // A text to a phone number has no resource to name; every topic is denied, so the grant
                // reaches phone numbers only.
                statements.push(json!({
                    "Sid": "NoTopics",
                    "Effect": "Deny",
                    "Action": "sns:Publish",
                    "Resource": sub("arn:${AWS::Partition}:sns:*:*:*"),
                }));
                Some(json!({
                    "Sid": "SendTextMessages",
                    "Effect": "Allow",
                    "Action": "sns:Publish",
                    "Resource": "*",
                }))
            }
            Grant::PresignExports => s3("SignExportDownloads", &["s3:GetObject"], &["exports/"]),
            Grant::WriteExports => s3("WriteExports", &["s3:PutObject", "s3:DeleteObject"], &["exports/"]),
            Grant::GenerateDataKey | Grant::DecryptDataKey => None,
        };
        statements.extend(statement);
    }
    let envelope: Vec<&str> = grants
        .iter()
        .filter_map(|g| match g {
            Grant::GenerateDataKey => Some("kms:GenerateDataKey"),
            Grant::DecryptDataKey => Some("kms:Decrypt"),
            _ => None,
        })
        .collect();
    if !envelope.is_empty() {
        statements.push(json!({
            "Sid": "PhotoDataKeysUnderAPhotoContext",
            "Effect": "Allow",
            "Action": envelope,
            "Resource": arn_of("DataKey"),
            // Each of the three keys present (StringLike "?*": a non-empty value), and no other key.
            "Condition": {
                "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": PHOTO_CONTEXT_KEYS },
                "StringLike": PHOTO_CONTEXT_KEYS
                    .iter()
                    .map(|k| (format!("kms:EncryptionContext:{k}"), json!("?*")))
                    .collect::<Map<String, Value>>(),
            },
        }));
    }
    if grants.iter().any(|g| !g.is_messages() && !matches!(g, Grant::GenerateDataKey | Grant::DecryptDataKey)) {
        statements.push(json!({
            "Sid": "BucketEncryptionThroughS3",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": arn_of("DataKey"),
            "Condition": { "StringEquals": { "kms:ViaService": sub("s3.${AWS::Region}.amazonaws.com") } },
        }));
    }
    statements
}

/// What the template needs to know of one function.
struct FunctionSpec<'a> {
    name: &'a str,
    summary: &'a str,
    ops: Vec<(Table, Op)>,
    grants: Vec<Grant>,
    /// What invokes it (asynchronous invocations get the dead-letter queue).
    invocation: Invocation,
    /// Serves API routes (and so seals cursors).
    api: bool,
}

impl FunctionSpec<'_> {
    /// Whether it reads the cursor key: to seal cursors (an API function) or the links in messages.
    fn reads_cursor_key(&self) -> bool {
        self.api || self.grants.iter().any(|g| g.is_messages())
    }

    /// Whether it removes events from the audit table (the retention job, and nothing else).
    fn retires_audit(&self) -> bool {
        self.ops.contains(&(Table::Audit, Op::Delete))
    }

    /// Memory (MB) and timeout (s): image work needs room and time; everything else is small and quick.
    fn sizing(&self) -> (u32, u32) {
        if self.grants.contains(&Grant::WritePhotos) {
            (1024, 60)
        } else if self.grants.contains(&Grant::WriteExports) {
            // A whole record with its photos, held while its ZIP is written.
            (1024, 300)
        } else if self.grants.contains(&Grant::ListPhotos) {
            (256, 900)
        } else if self.grants.contains(&Grant::ArchiveAudit) {
            (256, 120)
        } else if self.retires_audit() {
            // Verifying whole chains before removing anything.
            (1024, 900)
        } else if self.grants.contains(&Grant::ReadAuditArchive) {
            // Reading a window's batches: as long as API Gateway waits for an answer.
            (512, 29)
        } else if self.grants.contains(&Grant::ReadPhotos) {
            (256, 10)
        } else {
            (128, 10)
        }
    }
}

fn role(spec: &FunctionSpec<'_>) -> Value {
    let (function, ops) = (spec.name, &spec.ops);
    let log_group = format!("{}Logs", logical_name(function));
    let mut statements = vec![
        json!({
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": { "Fn::Sub": format!("${{{log_group}.Arn}}:*") },
        }),
        json!({
            "Sid": "Tracing",
            "Effect": "Allow",
            "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            "Resource": "*",
        }),
    ];
    if spec.invocation == Invocation::AuditStream {
        statements.push(json!({
            "Sid": "ReadAuditStream",
            "Effect": "Allow",
            "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"],
            "Resource": { "Fn::GetAtt": ["AuditTable", "StreamArn"] },
        }));
    }
    if spec.invocation.is_asynchronous() {
        statements.push(json!({
            "Sid": "DeadLetters",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": arn_of("DeadLetterQueue"),
        }));
        statements.push(json!({
            "Sid": "DeadLetterEncryption",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": arn_of("DataKey"),
            "Condition": { "StringEquals": { "kms:ViaService": sub("sqs.${AWS::Region}.amazonaws.com") } },
        }));
    }
    if spec.reads_cursor_key() {
        statements.push(json!({
            "Sid": "ReadCursorKey",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": reference("CursorKeySecret"),
        }));
    }
    statements.extend(grant_statements(&spec.grants));
    for (table, actions) in table_actions(ops) {
        let name = table_resource(table);
        let mut resources = vec![arn_of(name)];
        if actions.contains(&"dynamodb:Query") {
            resources.push(sub(&format!("${{{name}.Arn}}/index/*")));
        }
        statements.push(json!({
            "Sid": format!("{name}Access"),
            "Effect": "Allow",
            "Action": actions,
            "Resource": resources,
        }));
    }
    let mut role = json!({
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": sub(&format!("${{AWS::StackName}}-{function}")),
            "Description": format!("Runs the {function} function: only what it needs"),
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": { "Service": "lambda.amazonaws.com" },
                    "Action": "sts:AssumeRole",
                }],
            },
            "Policies": [{
                "PolicyName": "least-privilege",
                "PolicyDocument": { "Version": "2012-10-17", "Statement": statements },
            }],
        },
    });
    if spec.grants.contains(&Grant::SendSms) {
        role["Metadata"] = json!({ "checkov": { "skip": [{
            "id": "CKV_AWS_111",
            "comment": "A text to a phone number (sns:Publish) has no resource ARN to name; a Deny on every topic keeps the grant to phone numbers",
        }] } });
    }
    role
}

/// The API's routes, as its OpenAPI body's paths: each route's integration with its function (a Lambda
/// proxy, payload 2.0) and its authorizer: the JWT authorizer, but none on a patient's link routes (the
/// token in the path is the credential, checked by the function). Written here rather than as each
/// function's events, so that a function needs one permission for the API, not one per route.
fn api_paths() -> Value {
    let mut paths = Map::new();
    for route in routes::ROUTES.iter() {
        let function = logical_name(route.function);
        let security = if route.is_public() { json!([]) } else { json!([{ "CognitoJwt": [] }]) };
        let operation = json!({
            "operationId": route.name,
            "security": security,
            "x-amazon-apigateway-integration": {
                "type": "aws_proxy",
                "httpMethod": "POST",
                "uri": sub(&format!("arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{{function}.Arn}}/invocations")),
                "payloadFormatVersion": "2.0",
            },
        });
        let path = paths.entry(route.path.to_string()).or_insert_with(|| json!({}));
        path[route.method.to_ascii_lowercase()] = operation;
    }
    Value::Object(paths)
}

/// The permission of the API to invoke a function that serves its routes: any route of this API, and no
/// other caller.
fn api_permission(function: &str) -> Value {
    json!({
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "Action": "lambda:InvokeFunction",
            "FunctionName": reference(&logical_name(function)),
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": sub("arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/*"),
        },
    })
}

/// Every photo grant of every route a function serves, each once.
pub fn function_grants(function: &str) -> Vec<Grant> {
    let mut grants: Vec<Grant> = Vec::new();
    for route in routes::by_function(function) {
        for grant in route.grants {
            if !grants.contains(grant) {
                grants.push(*grant);
            }
        }
    }
    grants
}

/// Every operation of every route a function serves, each once.
pub fn function_operations(function: &str) -> Vec<(Table, Op)> {
    let mut ops: Vec<(Table, Op)> = Vec::new();
    for route in routes::by_function(function) {
        for op in route.operations() {
            if !ops.contains(&op) {
                ops.push(op);
            }
        }
    }
    ops
}

fn function(spec: &FunctionSpec<'_>) -> Value {
    let (function, summary) = (spec.name, spec.summary);
    let name = logical_name(function);
    let mut env = json!({
        "VELLUM_RECORDS_TABLE": reference("RecordsTable"),
        "VELLUM_AUDIT_TABLE": reference("AuditTable"),
    });
    if spec.reads_cursor_key() {
        // Messages' links are sealed with a key derived from the cursor key.
        env["VELLUM_CURSOR_KEY_SECRET"] = reference("CursorKeySecret");
    }
    if spec.api {
        env["VELLUM_PUBLIC_URL"] = reference("PublicUrl");
    }
    if spec.grants.iter().any(|g| g.is_photos()) {
        env["VELLUM_PHOTO_BUCKET"] = sub(photo_bucket_name());
        env["VELLUM_PHOTO_KEY_ID"] = arn_of("DataKey");
    }
    if spec.grants.iter().any(|g| g.is_archive()) {
        env["VELLUM_AUDIT_ARCHIVE_BUCKET"] = reference("AuditArchiveBucket");
    }
    if spec.grants.iter().any(|g| g.is_messages()) {
        env["VELLUM_MESSAGES_FROM"] = reference("MessagesFrom");
    }
    if spec.retires_audit() {
        env["VELLUM_AUDIT_RETENTION_DAYS"] = reference("AuditRetentionDays");
    }
    let (memory, timeout) = spec.sizing();
    let mut properties = json!({
        "FunctionName": sub(&format!("${{AWS::StackName}}-{function}")),
        "Description": summary,
        "CodeUri": "..",
        "Handler": "bootstrap",
        "Runtime": "provided.al2023",
        "Architectures": [reference("Architecture")],
        "MemorySize": memory,
        "Timeout": timeout,
        "Tracing": "Active",
        "Role": arn_of(&format!("{name}Role")),
        "KmsKeyArn": arn_of("DataKey"),
        "LoggingConfig": { "LogFormat": "JSON", "LogGroup": reference(&format!("{name}Logs")) },
        "Environment": { "Variables": env },
    });
    // (A stream's failed batches go to the same queue through the event's on-failure destination.)
    if spec.invocation.is_asynchronous() {
        properties["DeadLetterQueue"] = json!({ "Type": "SQS", "TargetArn": arn_of("DeadLetterQueue") });
    }
    match spec.invocation {
        Invocation::Synchronous => {}
        Invocation::Upload => {
            properties["Events"] = json!({
                "Upload": {
                    "Type": "S3",
                    "Properties": {
                        "Bucket": reference("PhotoBucket"),
                        "Events": "s3:ObjectCreated:*",
                        "Filter": { "S3Key": { "Rules": [{ "Name": "prefix", "Value": "quarantine/" }] } },
                    },
                },
            });
        }
        Invocation::Schedule(expression) => {
            properties["Events"] = json!({
                "Schedule": { "Type": "Schedule", "Properties": { "Schedule": expression, "Enabled": true } },
            });
        }
        Invocation::AuditStream => {
            properties["Events"] = json!({
                "AuditStream": {
                    "Type": "DynamoDB",
                    "Properties": {
                        "Stream": { "Fn::GetAtt": ["AuditTable", "StreamArn"] },
                        "StartingPosition": "TRIM_HORIZON",
                        "BatchSize": crate::archive::BATCH_LINES,
                        "MaximumRetryAttempts": 20,
                        "BisectBatchOnFunctionError": true,
                        "DestinationConfig": { "OnFailure": { "Destination": arn_of("DeadLetterQueue") } },
                    },
                },
            });
        }
    }
    let mut metadata = json!({
        "BuildMethod": "rust-cargolambda",
        "BuildProperties": { "Binary": function },
    });
    if !spec.invocation.is_asynchronous() {
        metadata["checkov"] = json!({ "skip": [{
            "id": "CKV_AWS_116",
            "comment": "Invoked synchronously (API Gateway or Cognito): a failure returns to the caller, nothing waits to be retried",
        }] });
    }
    json!({ "Type": "AWS::Serverless::Function", "Metadata": metadata, "Properties": properties })
}

fn log_group(name: Value) -> Value {
    json!({
        "Type": "AWS::Logs::LogGroup",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "LogGroupName": name,
            "RetentionInDays": reference("LogRetentionDays"),
            "KmsKeyId": arn_of("DataKey"),
        },
    })
}

/// An alarm on one metric that notifies the alarm topic.
fn alarm(
    description: String,
    namespace: &str,
    metric: &str,
    dimension: (&str, Value),
    statistic: &str,
    threshold: u32,
) -> Value {
    json!({
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "Namespace": namespace,
            "MetricName": metric,
            "Dimensions": [{ "Name": dimension.0, "Value": dimension.1 }],
            "Statistic": statistic,
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": threshold,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [reference("AlarmTopic")],
        },
    })
}

/// The alarm on the archive's tamper metric (an overwritten or removed audit event), which the function
/// logs as an embedded metric with no dimensions.
fn tamper_alarm() -> Value {
    let mut alarm = alarm(
        "An audit event was overwritten or removed: see the audit.tamper events and the archive".into(),
        "Vellum",
        "AuditTampering",
        ("", Value::Null),
        "Sum",
        1,
    );
    if let Some(properties) = alarm["Properties"].as_object_mut() {
        properties.remove("Dimensions");
    }
    alarm
}

fn function_alarm(function: &str, metric: &str, what: &str) -> Value {
    let dimension = ("FunctionName", reference(&logical_name(function)));
    alarm(format!("{function}: {what}"), "AWS/Lambda", metric, dimension, "Sum", 1)
}

/// A table of the stack. Both stream their changes with old and new images (the records table's for
/// integrations; the audit table's so that any overwrite or removal of an event is seen). Only the
/// records table expires items by TTL: nothing ever expires an audit event.
fn table(which: Table) -> Value {
    let indexes = which.indexes();
    let mut attrs = vec![
        json!({"AttributeName": schema::PK, "AttributeType": "S"}),
        json!({"AttributeName": schema::SK, "AttributeType": "S"}),
    ];
    let mut gsis = Vec::new();
    for index in indexes {
        let (pk, sk) = index.attrs();
        attrs.push(json!({"AttributeName": pk, "AttributeType": "S"}));
        attrs.push(json!({"AttributeName": sk, "AttributeType": "S"}));
        gsis.push(json!({
            "IndexName": index.name(),
            "KeySchema": [{"AttributeName": pk, "KeyType": "HASH"}, {"AttributeName": sk, "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": if which.keys_only_indexes() { "KEYS_ONLY" } else { "ALL" }},
        }));
    }
    let mut properties = json!({
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": schema::PK, "KeyType": "HASH"}, {"AttributeName": schema::SK, "KeyType": "RANGE"}],
        "AttributeDefinitions": attrs,
        "GlobalSecondaryIndexes": gsis,
        "PointInTimeRecoverySpecification": { "PointInTimeRecoveryEnabled": true },
        "DeletionProtectionEnabled": true,
        "SSESpecification": { "SSEEnabled": true, "SSEType": "KMS", "KMSMasterKeyId": arn_of("DataKey") },
        "StreamSpecification": { "StreamViewType": "NEW_AND_OLD_IMAGES" },
    });
    if which == Table::Records {
        properties["TimeToLiveSpecification"] = json!({ "AttributeName": schema::TTL, "Enabled": true });
    }
    json!({ "Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": properties })
}

fn tls_only_policy(bucket: &str) -> Value {
    json!({
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": reference(bucket),
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "DenyWithoutTls",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [arn_of(bucket), sub(&format!("${{{bucket}.Arn}}/*"))],
                    "Condition": { "Bool": { "aws:SecureTransport": "false" } },
                }],
            },
        },
    })
}

fn public_access_blocked() -> Value {
    json!({ "BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true })
}

/// A private, versioned, retained bucket owned by the account, with `properties` added.
fn bucket(properties: Value) -> Value {
    let mut all = json!({
        "PublicAccessBlockConfiguration": public_access_blocked(),
        "VersioningConfiguration": { "Status": "Enabled" },
        "OwnershipControls": { "Rules": [{ "ObjectOwnership": "BucketOwnerEnforced" }] },
    });
    if let (Value::Object(all), Value::Object(extra)) = (&mut all, properties) {
        all.extend(extra);
    }
    json!({ "Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": all })
}

/// The origins that upload photos: the staff apps (`AllowedOrigins`), the API's own domain (where the
/// patient's page is served) and the public URL when one is set.
fn upload_origins() -> Value {
    let origins = |extra: Vec<Value>| {
        let mut parts = vec![json!({ "Fn::Join": [",", reference("AllowedOrigins")] }), api_origin()];
        parts.extend(extra);
        json!({ "Fn::Split": [",", { "Fn::Join": [",", parts] }] })
    };
    json!({ "Fn::If": ["HasPublicUrl", origins(vec![reference("PublicUrl")]), origins(Vec::new())] })
}

fn api_origin() -> Value {
    sub("https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}")
}

fn kms_bucket_encryption() -> Value {
    json!({
        "ServerSideEncryptionConfiguration": [{
            "ServerSideEncryptionByDefault": { "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": arn_of("DataKey") },
            "BucketKeyEnabled": true,
        }],
    })
}

/// The name of the stack's cursor key in Secrets Manager (its ARN adds a random suffix to it).
const CURSOR_KEY_SECRET_NAME: &str = "${AWS::StackName}-cursor-key";

fn cursor_key_secret_arns() -> Value {
    sub(&format!(
        "arn:${{AWS::Partition}}:secretsmanager:${{AWS::Region}}:${{AWS::AccountId}}:secret:{CURSOR_KEY_SECRET_NAME}-*"
    ))
}

/// The key that seals cursors and the links kept in stored messages, shared by every function that reads
/// it: generated by Secrets Manager (64 letters and digits, hashed into the key), or the `CursorKey` the
/// stack was given. Never rotated, since a new key would make every stored link unreadable; kept when the
/// stack goes, like the tables whose links it opens.
fn cursor_key_secret() -> Value {
    let no_value = reference("AWS::NoValue");
    json!({
        "Type": "AWS::SecretsManager::Secret",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Metadata": { "checkov": { "skip": [{
            "id": "CKV2_AWS_57",
            "comment": "The cursor key also seals the links kept in stored messages: rotating it would make them unreadable",
        }] } },
        "Properties": {
            "Name": sub(CURSOR_KEY_SECRET_NAME),
            "Description": "Vellum cursor key: seals pagination cursors and the links kept in stored messages",
            "KmsKeyId": arn_of("DataKey"),
            "SecretString": { "Fn::If": ["HasCursorKey", reference("CursorKey"), no_value] },
            "GenerateSecretString": { "Fn::If": ["HasCursorKey", no_value, { "PasswordLength": 64, "ExcludePunctuation": true }] },
        },
    })
}

fn static_resources() -> Map<String, Value> {
    let all_functions: Vec<&str> = routes::functions().into_iter().chain(TRIGGERS.iter().map(|t| t.function)).collect();
    // Named by ARN rather than by reference: the roles depend on the tables, which depend on this key.
    let role_arns: Vec<Value> = all_functions
        .iter()
        .map(|f| sub(&format!("arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/${{AWS::StackName}}-{f}")))
        .collect();
    let resources = json!({
        "DataKey": {
            "Type": "AWS::KMS::Key",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "Description": "Vellum data key: tables, photos, logs, queues and topics",
                "EnableKeyRotation": true,
                "KeyPolicy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AccountAdministersTheKey",
                            "Effect": "Allow",
                            "Principal": { "AWS": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root") },
                            "Action": "kms:*",
                            "Resource": "*",
                        },
                        {
                            "Sid": "FunctionRolesUseItThroughTheirTablesOnly",
                            "Effect": "Allow",
                            "Principal": { "AWS": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root") },
                            "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
                            "Resource": "*",
                            "Condition": {
                                "ArnEquals": { "aws:PrincipalArn": role_arns },
                                "StringEquals": { "kms:ViaService": sub("dynamodb.${AWS::Region}.amazonaws.com") },
                                "StringLike": { "kms:EncryptionContext:aws:dynamodb:tableName": sub("${AWS::StackName}-*") },
                            },
                        },
                        {
                            "Sid": "FunctionRolesReadTheCursorKeyThroughSecretsManagerOnly",
                            "Effect": "Allow",
                            "Principal": { "AWS": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root") },
                            "Action": "kms:Decrypt",
                            "Resource": "*",
                            "Condition": {
                                "ArnEquals": { "aws:PrincipalArn": role_arns },
                                "StringEquals": { "kms:ViaService": sub("secretsmanager.${AWS::Region}.amazonaws.com") },
                                "StringLike": { "kms:EncryptionContext:SecretARN": cursor_key_secret_arns() },
                            },
                        },
                        {
                            "Sid": "LogsEncryptTheirGroups",
                            "Effect": "Allow",
                            "Principal": { "Service": sub("logs.${AWS::Region}.amazonaws.com") },
                            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                            "Resource": "*",
                            "Condition": {
                                "ArnLike": {
                                    "kms:EncryptionContext:aws:logs:arn": sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:*"),
                                    "aws:SourceArn": sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:*"),
                                },
                                "StringEquals": { "aws:SourceAccount": reference("AWS::AccountId") },
                            },
                        },
                        {
                            "Sid": "AlarmsPublishToTheEncryptedTopic",
                            "Effect": "Allow",
                            "Principal": { "Service": "cloudwatch.amazonaws.com" },
                            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                            "Resource": "*",
                        },
                    ],
                },
            },
        },
        "CursorKeySecret": cursor_key_secret(),
        "DataKeyAlias": {
            "Type": "AWS::KMS::Alias",
            "Properties": { "AliasName": sub("alias/${AWS::StackName}-data"), "TargetKeyId": reference("DataKey") },
        },
        "RecordsTable": table(Table::Records),
        "AuditTable": table(Table::Audit),
        "AccessLogBucket": bucket(json!({
            "BucketEncryption": { "ServerSideEncryptionConfiguration": [{ "ServerSideEncryptionByDefault": { "SSEAlgorithm": "AES256" } }] },
            "LifecycleConfiguration": { "Rules": [{
                "Id": "expire-access-logs",
                "Status": "Enabled",
                "ExpirationInDays": reference("AccessLogRetentionDays"),
                "NoncurrentVersionExpiration": { "NoncurrentDays": 30 },
            }] },
        })),
        "AccessLogBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": reference("AccessLogBucket"),
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "S3ServerAccessLogs",
                            "Effect": "Allow",
                            "Principal": { "Service": "logging.s3.amazonaws.com" },
                            "Action": "s3:PutObject",
                            "Resource": sub("${AccessLogBucket.Arn}/*"),
                            "Condition": { "StringEquals": { "aws:SourceAccount": reference("AWS::AccountId") } },
                        },
                        {
                            "Sid": "DenyWithoutTls",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [arn_of("AccessLogBucket"), sub("${AccessLogBucket.Arn}/*")],
                            "Condition": { "Bool": { "aws:SecureTransport": "false" } },
                        },
                    ],
                },
            },
        },
        "PhotoBucket": bucket(json!({
            "BucketName": sub(photo_bucket_name()),
            "BucketEncryption": kms_bucket_encryption(),
            "LoggingConfiguration": { "DestinationBucketName": reference("AccessLogBucket"), "LogFilePrefix": "photos/" },
            // Browsers PUT to presigned URLs from the staff app and from the patient's page (on the API's
            // domain or the public URL); without this rule S3 refuses their preflight.
            "CorsConfiguration": { "CorsRules": [{
                "Id": "presigned-uploads",
                "AllowedMethods": ["PUT"],
                "AllowedOrigins": upload_origins(),
                "AllowedHeaders": ["content-type"],
                "ExposedHeaders": ["ETag"],
                "MaxAge": 600,
            }] },
            "LifecycleConfiguration": { "Rules": [
                { "Id": "expire-quarantine", "Status": "Enabled", "Prefix": "quarantine/", "ExpirationInDays": 1,
                  "NoncurrentVersionExpiration": { "NoncurrentDays": 1 } },
                // The export worker deletes each ZIP after its seven days; this is the backstop (and the
                // versions a deletion leaves).
                { "Id": "expire-exports", "Status": "Enabled", "Prefix": "exports/", "ExpirationInDays": 8,
                  "NoncurrentVersionExpiration": { "NoncurrentDays": 1 } },
                { "Id": "expire-old-versions", "Status": "Enabled", "NoncurrentVersionExpiration": { "NoncurrentDays": reference("PhotoVersionRetentionDays") } },
                { "Id": "abort-incomplete-uploads", "Status": "Enabled", "AbortIncompleteMultipartUpload": { "DaysAfterInitiation": 1 } },
            ] },
        })),
        "PhotoBucketPolicy": tls_only_policy("PhotoBucket"),
        "AuditArchiveBucket": bucket(json!({
            "ObjectLockEnabled": true,
            "ObjectLockConfiguration": {
                "ObjectLockEnabled": "Enabled",
                "Rule": { "DefaultRetention": { "Mode": "COMPLIANCE", "Years": 6 } },
            },
            "BucketEncryption": kms_bucket_encryption(),
            "LoggingConfiguration": { "DestinationBucketName": reference("AccessLogBucket"), "LogFilePrefix": "audit-archive/" },
        })),
        "AuditArchiveBucketPolicy": tls_only_policy("AuditArchiveBucket"),
        "UserPool": {
            "Type": "AWS::Cognito::UserPool",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "UserPoolName": sub("${AWS::StackName}-staff"),
                "UserPoolTier": "ESSENTIALS",
                "DeletionProtection": "ACTIVE",
                "UsernameAttributes": ["email"],
                "AutoVerifiedAttributes": ["email"],
                "MfaConfiguration": "ON",
                "EnabledMfas": ["SOFTWARE_TOKEN_MFA"],
                "AdminCreateUserConfig": { "AllowAdminCreateUserOnly": true },
                "AccountRecoverySetting": { "RecoveryMechanisms": [{ "Name": "verified_email", "Priority": 1 }] },
                "Policies": { "PasswordPolicy": {
                    "MinimumLength": 14,
                    "RequireLowercase": true,
                    "RequireUppercase": true,
                    "RequireNumbers": true,
                    "RequireSymbols": true,
                    "TemporaryPasswordValidityDays": 3,
                } },
                "LambdaConfig": { "PreTokenGenerationConfig": { "LambdaArn": arn_of("AuthPreToken"), "LambdaVersion": "V2_0" } },
            },
        },
        "OperatorGroup": {
            "Type": "AWS::Cognito::UserPoolGroup",
            "Properties": { "GroupName": "operator", "Description": "Platform operators: open clinics, never read patient data", "UserPoolId": reference("UserPool") },
        },
        "WebClient": client("web"),
        "MobileClient": client("mobile"),
        "AuthPreTokenInvokedByCognito": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": arn_of("AuthPreToken"),
                "Principal": "cognito-idp.amazonaws.com",
                "SourceArn": arn_of("UserPool"),
            },
        },
        "HttpApi": {
            "Type": "AWS::Serverless::HttpApi",
            "Properties": {
                "Description": "Vellum API",
                // No default authorizer: each route of the body names its own (with one, SAM's transform
                // would put it on the link routes too).
                "Auth": {
                    "Authorizers": { "CognitoJwt": {
                        "IdentitySource": "$request.header.Authorization",
                        "JwtConfiguration": {
                            "issuer": sub("https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"),
                            "audience": [reference("WebClient"), reference("MobileClient")],
                        },
                    } },
                },
                // The routes and CORS are written into the API's own OpenAPI body. Given as
                // `CorsConfiguration` with the origins a parameter, SAM's transform would replace the whole
                // configuration by the origins list (headers, methods and max age lost).
                "DefinitionBody": {
                    "openapi": "3.0.1",
                    "info": { "title": reference("AWS::StackName"), "version": "1.0" },
                    "paths": api_paths(),
                    "x-amazon-apigateway-cors": {
                        "allowOrigins": reference("AllowedOrigins"),
                        "allowHeaders": ["authorization", "content-type", "idempotency-key", "if-match"],
                        "allowMethods": ["GET", "POST", "PUT", "PATCH", "OPTIONS"],
                        "exposeHeaders": ["etag", "location", "x-request-id", "idempotent-replayed"],
                        "maxAge": 600,
                    },
                },
                "DefaultRouteSettings": { "ThrottlingBurstLimit": reference("ThrottleBurst"), "ThrottlingRateLimit": reference("ThrottleRate") },
                "AccessLogSettings": {
                    "DestinationArn": arn_of("ApiAccessLogs"),
                    "Format": "{\"requestId\":\"$context.requestId\",\"ip\":\"$context.identity.sourceIp\",\"requestTime\":\"$context.requestTime\",\"routeKey\":\"$context.routeKey\",\"status\":\"$context.status\",\"latency\":\"$context.responseLatency\",\"integrationError\":\"$context.integrationErrorMessage\",\"authorizerError\":\"$context.authorizer.error\"}",
                },
            },
        },
        "ApiAccessLogs": log_group(sub("/aws/vendedlogs/${AWS::StackName}-api")),
        "AlarmTopic": {
            "Type": "AWS::SNS::Topic",
            "Properties": { "TopicName": sub("${AWS::StackName}-alarms"), "KmsMasterKeyId": reference("DataKey") },
        },
        "AlarmEmailSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Condition": "HasAlarmEmail",
            "Properties": { "TopicArn": reference("AlarmTopic"), "Protocol": "email", "Endpoint": reference("AlarmEmail") },
        },
        "DeadLetterQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": sub("${AWS::StackName}-dead-letters"),
                "MessageRetentionPeriod": 1_209_600,
                "KmsMasterKeyId": reference("DataKey"),
            },
        },
        "AuditTamperingAlarm": tamper_alarm(),
        "DeadLetterQueueDepthAlarm": alarm(
            "Events that an asynchronous function could not process are waiting".into(),
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            ("QueueName", json!({ "Fn::GetAtt": ["DeadLetterQueue", "QueueName"] })),
            "Maximum",
            1,
        ),
        "Api5xxAlarm": alarm(
            "The API answered with server errors".into(),
            "AWS/ApiGateway",
            "5xx",
            ("ApiId", reference("HttpApi")),
            "Sum",
            5,
        ),
    });
    match resources {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn client(kind: &str) -> Value {
    json!({
        "Type": "AWS::Cognito::UserPoolClient",
        "Properties": {
            "ClientName": format!("vellum-{kind}"),
            "UserPoolId": reference("UserPool"),
            "GenerateSecret": false,
            "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            "PreventUserExistenceErrors": "ENABLED",
            "EnableTokenRevocation": true,
            "AccessTokenValidity": 60,
            "IdTokenValidity": 60,
            "RefreshTokenValidity": 12,
            "TokenValidityUnits": { "AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "hours" },
        },
    })
}

fn parameters() -> Value {
    json!({
        "Architecture": { "Type": "String", "AllowedValues": ["arm64", "x86_64"], "Default": "arm64", "Description": "CPU architecture of every function" },
        "AllowedOrigins": { "Type": "CommaDelimitedList", "Description": "Web origins allowed to call the API (CORS), e.g. https://app.example.com" },
        "CursorKey": { "Type": "String", "NoEcho": true, "Default": "", "AllowedPattern": "^([A-Za-z0-9+/]{43}=)?$", "Description": "Empty (the default): the stack generates its cursor key in Secrets Manager. A stack first deployed with a key (32 random bytes, base64) keeps giving it, so that its cursors and stored links stay readable" },
        "LogRetentionDays": { "Type": "Number", "Default": 365, "AllowedValues": [90, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], "Description": "How long function and API logs are kept" },
        "AccessLogRetentionDays": { "Type": "Number", "Default": 365, "MinValue": 30, "Description": "How long S3 server access logs are kept" },
        "AuditRetentionDays": { "Type": "Number", "Default": 365, "MinValue": 7, "Description": "How long audit events stay in the audit table; older ones are read from the archive (kept 6 years)" },
        "PhotoVersionRetentionDays": { "Type": "Number", "Default": 30, "MinValue": 1, "Description": "How long replaced or deleted photo versions are kept" },
        "ThrottleBurst": { "Type": "Number", "Default": 200, "MinValue": 1, "Description": "API burst limit (requests)" },
        "ThrottleRate": { "Type": "Number", "Default": 100, "MinValue": 1, "Description": "API steady rate limit (requests per second)" },
        "AlarmEmail": { "Type": "String", "Default": "", "Description": "E-mail address that receives alarms (empty: none)" },
        "MessagesFrom": { "Type": "String", "AllowedPattern": "^[^@\\s]+@[^@\\s]+$", "Description": "The address messages to patients are sent from, e.g. messages@example.com" },
        "MessagesIdentity": { "Type": "String", "AllowedPattern": "^[^\\s]+$", "Description": "The SES identity (a verified domain or address) that MessagesFrom belongs to, e.g. example.com" },
        "PublicUrl": { "Type": "String", "Default": "", "AllowedPattern": "^(https://[a-z0-9.-]+(:[0-9]+)?)?$", "Description": "Base URL of patients' links, e.g. https://forms.example.com (empty: the API's own domain)" },
    })
}

fn outputs() -> Value {
    json!({
        "ApiUrl": { "Description": "Base URL of the API", "Value": api_origin() },
        "UserPoolId": { "Value": reference("UserPool") },
        "WebClientId": { "Value": reference("WebClient") },
        "MobileClientId": { "Value": reference("MobileClient") },
        "RecordsTableName": { "Value": reference("RecordsTable") },
        "AuditTableName": { "Value": reference("AuditTable") },
        "PhotoBucketName": { "Value": reference("PhotoBucket") },
        "AuditArchiveBucketName": { "Value": reference("AuditArchiveBucket") },
        "DataKeyArn": { "Value": arn_of("DataKey") },
        "AlarmTopicArn": { "Value": reference("AlarmTopic") },
    })
}

/// The whole SAM template.
pub fn template() -> Value {
    let mut resources = static_resources();
    let mut add = |spec: FunctionSpec<'_>| {
        let function = spec.name;
        let name = logical_name(function);
        resources.insert(name.clone(), self::function(&spec));
        resources.insert(format!("{name}Role"), role(&spec));
        resources.insert(format!("{name}Logs"), log_group(sub(&format!("/aws/lambda/${{AWS::StackName}}-{function}"))));
        // An API function's failure or throttling reaches the caller as a 5xx, which `Api5xxAlarm` watches
        // for every route at once; an event-driven function has no caller to see it fail.
        if spec.api {
            resources.insert(format!("{name}InvokedByApi"), api_permission(function));
        } else {
            resources.insert(format!("{name}ErrorsAlarm"), function_alarm(function, "Errors", "the function failed"));
            resources.insert(
                format!("{name}ThrottlesAlarm"),
                function_alarm(function, "Throttles", "invocations were throttled"),
            );
        }
    };
    for function in routes::functions() {
        add(FunctionSpec {
            name: function,
            summary: routes::function_summary(function),
            ops: function_operations(function),
            grants: function_grants(function),
            invocation: Invocation::Synchronous,
            api: true,
        });
    }
    for trigger in TRIGGERS {
        add(FunctionSpec {
            name: trigger.function,
            summary: trigger.summary,
            ops: trigger.access.to_vec(),
            grants: trigger.grants.to_vec(),
            invocation: trigger.invocation,
            api: false,
        });
    }
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": "Vellum: an electronic medical record for clinics (generated from the route table; do not edit by hand)",
        "Parameters": parameters(),
        "Conditions": {
            "HasAlarmEmail": { "Fn::Not": [{ "Fn::Equals": [reference("AlarmEmail"), ""] }] },
            "HasPublicUrl": { "Fn::Not": [{ "Fn::Equals": [reference("PublicUrl"), ""] }] },
            "HasCursorKey": { "Fn::Not": [{ "Fn::Equals": [reference("CursorKey"), ""] }] },
        },
        "Resources": resources,
        "Outputs": outputs(),
    })
}

/// The template as the committed file holds it.
pub fn template_text() -> String {
    let mut text = serde_json::to_string_pretty(&template()).unwrap_or_default();
    text.push('\n');
    text
}
