"""Seeds a running local server for the API fuzzer: one clinic per role, with a member of that role and
the records its routes read (a patient, a chart entry, a room, a service, an appointment, a form
template, a patient's invitation and a submission), then writes, per role, the operations the role may
call (a pattern of their ids), the ones of them whose coverage phase it runs (each operation's once, by one
of the roles that may call it, shared evenly between the two queues fuzz-api.sh runs: roles at even and at
odd places; every role fuzzes all of its own at random), and a schemathesis configuration that calls them
as that member on those records.

usage: seed.py BASE_URL OPENAPI_JSON CHECKS_TOML OUT_DIR SEED ROLE...
"""

import datetime
import json
import re
import sys
import urllib.error
import urllib.request

BASE, DOCUMENT, CHECKS, OUT, SEED = sys.argv[1:6]
ROLES = sys.argv[6:]
# The roles the document names; `patient` is the caller behind the public routes (a link, no login).
PUBLIC = "patient"


def call(method, path, token=None, body=None, headers=None):
    request = urllib.request.Request(BASE + path, method=method)
    if token:
        request.add_header("authorization", f"Bearer {token}")
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        request.add_header("content-type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, data) as response:
            text = response.read().decode()
            return response.status, json.loads(text) if text.startswith("{") else text, response.headers.get("etag")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), None


def expect(status, reply, *wanted):
    code, body, _ = reply
    if code not in wanted:
        sys.exit(f"seeding failed: {status} answered {code}: {body}")
    return body


def token(claims):
    return expect("dev token", call("POST", "/v1/dev/token", body=claims), 200)["token"]


def join(user, code):
    expect("join", call("POST", "/v1/staff/join", token({"userId": user, "role": "joiner"}), {"code": code}), 200)


def member(admin, clinic, user, role):
    invited = expect("invite staff", call("POST", "/v1/staff", admin, {"role": role, "displayName": user}), 201)
    join(user, invited["code"])
    return token({"clinicId": clinic, "userId": user, "role": role})


def seed(role):
    """A clinic with a member of `role`; answers the member's token and the ids the routes take."""
    operator = token({"userId": "operator-1", "role": "operator"})
    opened = expect("open clinic", call("POST", "/v1/clinics", operator, {
        "name": f"Fuzz {role}", "timeZone": "America/Los_Angeles", "country": "US",
        "contact": {"email": "front@clinic.example"}, "admin": {"displayName": "Admin"},
    }), 201)
    clinic = opened["id"]
    admin_user = f"admin-{role}".replace("_", "-")
    join(admin_user, opened["adminInvitationCode"])
    admin = token({"clinicId": clinic, "userId": admin_user, "role": "admin"})
    # A quota no fuzzer reaches: the runs measure the document, not the plan.
    expect("plan", call("PUT", f"/v1/operator/clinics/{clinic}/plan", operator,
                        {"name": "Fuzz", "burstUnitsPerMinute": 1000000}), 200, 201)
    clinician_user = f"dr-{role}".replace("_", "-")
    clinician = member(admin, clinic, clinician_user, "practitioner")
    every_day = {day: [{"start": "08:00", "end": "20:00"}] for day in
                 ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]}
    expect("clinic hours", call("PUT", "/v1/clinic/working-hours", admin, {"weekly": every_day}), 200, 201)
    expect("staff hours", call("PUT", f"/v1/staff/{clinician_user}/working-hours", admin, {"weekly": every_day}), 200, 201)
    room = expect("room", call("POST", "/v1/resources", admin, {"name": "Room 1", "kind": "room"}), 201)["id"]
    service = expect("service", call("POST", "/v1/services", admin, {
        "name": "Consultation", "durationMinutes": 30, "performedBy": {"staff": [clinician_user]},
        "resourceIds": [room], "bookableOnline": True,
    }), 201)["id"]
    _, _, etag = call("GET", "/v1/clinic", admin)
    slug = f"fuzz-{role}".replace("_", "-")
    expect("booking page", call("PATCH", "/v1/clinic", admin, {"bookingSlug": slug}, {"if-match": etag}), 200)
    patient = expect("patient", call("POST", "/v1/patients", admin, {
        "givenName": "Ana", "familyName": "Fuzz", "birthDate": "1988-04-12", "sexAtBirth": "female",
        "phone": "+14155550123", "email": "ana@mail.example",
        # Every nested part, so that a merge patch of part of one has a whole to merge into.
        "address": {"lines": ["1 Main St"], "city": "Oakland", "country": "US"},
        "emergencyContact": {"name": "Sam Fuzz", "phone": "+14155550124"},
        "insurance": {"payer": "Acme Health", "memberId": "M1"},
    }), 201)["id"]
    day = datetime.date.today() + datetime.timedelta(days=8)
    start = f"{day.isoformat()}T18:00:00Z"
    appointment = expect("appointment", call("POST", "/v1/appointments", admin,
                                             {"patientId": patient, "serviceId": service, "start": start}), 201)["id"]
    entry = expect("allergy", call("POST", f"/v1/patients/{patient}/allergies", clinician,
                                   {"substance": "Lidocaine", "reaction": "Hives", "severity": "moderate"}), 201)["id"]
    expect("template", call("PUT", "/v1/form-templates/medical-history", admin, {"copyOf": "medical-history"}), 201)
    submitted = expect("invitation", call("POST", "/v1/invitations", admin,
                                          {"patientId": patient, "templateIds": ["medical-history"]}), 201)
    answered = submitted["link"].rsplit("/", 1)[1]
    submission = expect("submission", call("POST", f"/v1/intake/{answered}/submit", None, {"answers": {
        "medical-history": {"allergies": [], "medications": [], "pregnant": False, "keloids": False, "cold-sores": False, "bleeding": False},
    }}), 201)["submissionId"]
    open_link = expect("invitation", call("POST", "/v1/invitations", admin,
                                          {"patientId": patient, "templateIds": ["medical-history"]}), 201)
    caller = {"admin": admin, "practitioner": clinician, "operator": operator, PUBLIC: None,
              "joiner": token({"userId": "newcomer-1", "role": "joiner"})}.get(role)
    user = clinician_user
    if caller is None and role != PUBLIC:
        user = f"{role}-1".replace("_", "-")
        caller = member(admin, clinic, user, role)
    return caller, {
        "clinicId": clinic, "clinicSlug": slug, "patientId": patient, "serviceId": service, "resourceId": room,
        "appointmentId": appointment, "entryId": entry, "templateId": "medical-history",
        "invitationId": open_link["id"], "submissionId": submission, "token": open_link["link"].rsplit("/", 1)[1],
        "userId": user, "id": patient,
    }


def toml_string(value):
    return json.dumps(value)


def main():
    with open(DOCUMENT) as f:
        document = json.load(f)
    with open(CHECKS) as f:
        checks = f.read()
    # The operations each role may call, and the role that runs each one's coverage phase: of those that
    # may call it, one in the queue with the fewest so far (the operations fewest roles call placed first).
    operations = [op for ops in document["paths"].values() for op in ops.values()]
    callable_by = {role: [op["operationId"] for op in operations if role in op.get("x-vellum-roles", [])]
                   for role in ROLES}
    covers = {role: [] for role in ROLES}
    queue_load = [0, 0]
    callers_of = {op["operationId"]: [i for i, role in enumerate(ROLES) if op["operationId"] in callable_by[role]]
                  for op in operations}
    for op in sorted(operations, key=lambda op: len(callers_of[op["operationId"]])):
        callers = callers_of[op["operationId"]]
        if callers:
            place = min(callers, key=lambda i: (queue_load[i % 2], i))
            queue_load[place % 2] += 1
            covers[ROLES[place]].append(op["operationId"])
    for role in ROLES:
        caller, ids = seed(role)
        # The whole document (so a 405's Allow can be checked against every method of a path), and the
        # operations the role may call.
        ids_of_role = callable_by[role]
        first_here = covers[role]
        for name, ids_written in (("operations", ids_of_role), ("covered", first_here)):
            with open(f"{OUT}/{role}.{name}", "w") as f:
                f.write("^(" + "|".join(re.escape(i) for i in ids_written) + ")$" if ids_written else "")
        lines = [f"seed = {SEED}"]
        if caller:
            lines.append(f"headers = {{ Authorization = {toml_string('Bearer ' + caller)} }}")
        lines.append("[parameters]")
        lines += [f"{toml_string('path.' + name)} = {toml_string(value)}" for name, value in ids.items()]
        # A FHIR search of a chart is of the seeded patient's (a FHIR read's id is the patient's too).
        lines.append(f"{toml_string('query.patient')} = {toml_string('Patient/' + ids['patientId'])}")
        with open(f"{OUT}/{role}.toml", "w") as f:
            f.write("\n".join(lines) + "\n\n" + checks)
        print(f"{role}: {len(ids_of_role)} operations ({len(first_here)} with the coverage phase), clinic {ids['clinicId']}")


main()
