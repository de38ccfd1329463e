"""Reads the server with fhirpy, a FHIR client library, as a FHIR client would: the capability statement, a
patient's read, every page of a search followed through its next links, and every page of the patient's
$everything. Prints what it read as JSON.

python client.py BASE_URL BEARER_TOKEN PATIENT_ID RESOURCE_TYPE PAGE_SIZE"""

import json
import sys
from urllib.parse import parse_qsl

from fhirpy import SyncFHIRClient

base, token, patient, resource_type, page_size = sys.argv[1:]
client = SyncFHIRClient(f"{base}/fhir/R4", authorization=f"Bearer {token}")
metadata = client.execute("metadata", method="get")
read = client.reference("Patient", patient).to_resource()
search = client.resources(resource_type).search(patient=f"Patient/{patient}").limit(int(page_size))
first_page = search.fetch()
every = search.fetch_all()
# $everything, page by page: each next link is the operation's path again, with its cursor.
everything, path, params = [], f"Patient/{patient}/$everything", {"_count": page_size}
while path:
    bundle = client.execute(path, method="get", params=params)
    everything += [f"{e['resource']['resourceType']}/{e['resource'].get('id', '')}" for e in bundle["entry"]]
    following = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
    path, params = None, None
    if following:
        path, _, query = following[0].removeprefix(f"{base}/fhir/R4/").partition("?")
        params = dict(parse_qsl(query))
print(json.dumps({
    "fhirVersion": metadata["fhirVersion"],
    "patient": read.serialize(),
    "firstPage": [r.id for r in first_page],
    "all": [r.id for r in every],
    "everything": everything,
}))
