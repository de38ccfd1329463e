"""Validates FHIR resources with the fhir.resources models (R4B): every element, type, cardinality and
required field. Reads a JSON list of resources from the file named; prints each failure and exits 1 on any."""

import json
import sys

from fhir.resources.R4B import get_fhir_model_class

resources = json.load(open(sys.argv[1]))
failures = 0
for resource in resources:
    kind = resource.get("resourceType", "?")
    try:
        get_fhir_model_class(kind).model_validate(resource)
    except Exception as error:  # a validation error, or an unknown type
        failures += 1
        print(f"{kind}/{resource.get('id', '?')}: {error}")
print(f"{len(resources) - failures} of {len(resources)} resources valid")
sys.exit(1 if failures else 0)
