"""Runs SAM's own transform (aws-sam-translator) on the deployment template, as `sam deploy` has
CloudFormation do, and checks what a browser and a client meet on AWS in its output: the HTTP API's CORS
configuration whole, every route of the OpenAPI document with its function, its authorizer (none for the
patients' link routes) and its invoke permission, and the stack's resources within CloudFormation's limit.

usage: check.py TEMPLATE_JSON OPENAPI_JSON
"""

import json
import os
import sys

from samtranslator.translator.transform import transform

# CloudFormation refuses a stack of more than 500 resources; this leaves room to notice the climb.
MOST_RESOURCES = 480
METHODS = ("get", "post", "put", "patch", "delete")

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


class NoManagedPolicies:
    """The template names no AWS managed policy: nothing to look up."""

    def load(self):
        return {}


template_path, document_path = sys.argv[1:3]
with open(template_path) as f:
    template = json.load(f)
with open(document_path) as f:
    document = json.load(f)
for resource in template["Resources"].values():
    if resource["Type"] == "AWS::Serverless::Function":
        # `sam deploy` uploads the code and names it so; the transform wants a location of that form.
        resource["Properties"]["CodeUri"] = "s3://artifacts/function.zip"

resources = transform(template, {"AWS::Region": "us-east-1"}, NoManagedPolicies())["Resources"]
failures = []

body = resources["HttpApi"]["Properties"]["Body"]
cors = body.get("x-amazon-apigateway-cors")
if not isinstance(cors, dict) or cors.get("allowOrigins") != {"Ref": "AllowedOrigins"}:
    failures.append(f"CORS must be an object whose allowOrigins are the AllowedOrigins parameter: {cors!r}")
else:
    wanted = {
        "allowHeaders": {"authorization", "content-type", "idempotency-key", "if-match"},
        "allowMethods": {m.upper() for ops in document["paths"].values() for m in ops if m in METHODS},
        "exposeHeaders": {"etag", "location", "x-request-id", "idempotent-replayed"},
    }
    for name, values in wanted.items():
        missing = values - {v.lower() if name != "allowMethods" else v for v in cors.get(name, [])}
        if missing:
            failures.append(f"CORS {name} lacks {sorted(missing)}")
    if not cors.get("maxAge"):
        failures.append("CORS sets no maxAge: every call would be preflighted")

permissions = {
    r["Properties"]["FunctionName"]["Ref"]
    for r in resources.values()
    if r["Type"] == "AWS::Lambda::Permission" and r["Properties"]["Principal"] == "apigateway.amazonaws.com"
}
routes = 0
for path, operations in document["paths"].items():
    for method, operation in operations.items():
        if method not in METHODS:
            continue
        routes += 1
        served = body["paths"].get(path, {}).get(method)
        if served is None:
            failures.append(f"{method.upper()} {path} is not a route of the API")
            continue
        # A link route goes without an authorizer (an empty security list, kept by the transform as there is
        # no default authorizer to put in its place); every other route with the JWT authorizer.
        public = operation.get("security") == []
        expected = [] if public else [{"CognitoJwt": []}]
        if served.get("security") != expected:
            failures.append(f"{method.upper()} {path}: security {served.get('security')}, expected {expected}")
        uri = json.dumps(served.get("x-amazon-apigateway-integration", {}).get("uri"))
        function = next((name for name in permissions if f"${{{name}.Arn}}" in uri), None)
        if function is None:
            failures.append(f"{method.upper()} {path}: no function the API may invoke behind it ({uri})")

print(f"SAM transform: {len(resources)} resources (at most {MOST_RESOURCES}), {routes} routes checked, "
      f"CORS {sorted(cors) if isinstance(cors, dict) else cors}")
if len(resources) > MOST_RESOURCES:
    failures.append(f"{len(resources)} resources: CloudFormation stops at 500")
for failure in failures:
    print(f"  {failure}")
sys.exit(1 if failures else 0)
