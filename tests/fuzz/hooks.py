"""What the API fuzzer knows beyond the OpenAPI document: the rules the document can only state in
words, because they depend on the time or tie two values together, and the values only the server
makes. Each hook changes a generated request only where the request stays what it was generated as
(valid stays valid), so every check still judges the server against the document.
"""

import datetime
import re
import uuid

import schemathesis
from hypothesis import strategies as st

EARLIEST = datetime.date(1880, 1, 1)


def _today():
    return datetime.datetime.now(datetime.timezone.utc).date()


# The document's own formats: `past-date` and `past-date-time` have come (and are not before 1880).
schemathesis.openapi.format(
    "past-date", st.dates(min_value=EARLIEST, max_value=_today()).map(lambda d: d.isoformat())
)
schemathesis.openapi.format(
    "past-date-time",
    st.datetimes(
        min_value=datetime.datetime(1880, 1, 2),
        max_value=datetime.datetime.combine(_today(), datetime.time()),
    ).map(lambda t: t.replace(microsecond=0).isoformat() + "Z"),
)

KEY = re.compile(r"^[!-~]{1,255}$")


def _date(value):
    try:
        return datetime.date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None


def _instant(value):
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None
    except ValueError:
        return None


def _moment(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return _date(value) or _instant(value)


def _ordered(values, first, second):
    """Swaps two values of a request that must come in order (from/to, start/stop) when both parse."""
    if not isinstance(values, dict):
        return
    a, b = _moment(values.get(first)), _moment(values.get(second))
    try:
        if a is not None and b is not None and a > b:
            values[first], values[second] = values[second], values[first]
    except TypeError:
        pass  # a date against a time, or a local time against one with an offset


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    query = case.query or {}
    # A page's cursor is sealed by the server for the query it ends: none can be made up.
    query.pop("cursor", None)
    query.pop("_cursor", None)
    # A FHIR search takes its type's own parameters: a chart's types the patient's, Patient its own.
    if case.operation.path == "/fhir/R4/{resourceType}":
        if (case.path_parameters or {}).get("resourceType") == "Patient":
            query.pop("patient", None)
        else:
            for name in ("_id", "family", "birthdate", "identifier"):
                query.pop(name, None)
    # A time range runs forwards, and an availability window spans at most 14 days.
    _ordered(query, "from", "to")
    # A range of days spans at most 14 (the booking page's availability; 31 elsewhere).
    start, end = _date(query.get("from")), _date(query.get("to"))
    if start and end and (end - start).days >= 14:
        query["to"] = (start + datetime.timedelta(days=13)).isoformat()
    # A month's usage is of a month that has begun.
    month = query.get("month")
    if isinstance(month, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}", month) and month > _today().strftime("%Y-%m"):
        query["month"] = _today().strftime("%Y-%m")
    # An idempotency key names one request: another request needs another key.
    headers = case.headers or {}
    if isinstance(headers.get("Idempotency-Key"), str) and KEY.match(headers["Idempotency-Key"]):
        headers["Idempotency-Key"] = str(uuid.uuid4())
    body = case.body if isinstance(case.body, dict) else None
    if body is not None:
        # A diastolic pressure is lower than the systolic.
        pressure = body.get("bloodPressure")
        if isinstance(pressure, dict):
            s, d = pressure.get("systolic"), pressure.get("diastolic")
            if isinstance(s, (int, float)) and isinstance(d, (int, float)) and d >= s:
                pressure["systolic"], pressure["diastolic"] = 300, 20
        # A medication stops after it starts.
        _ordered(body, "startDate", "stopDate")
        _within_a_day(body)
        _distinct_questions(body)
        _sound_hours(body)
        _sound_treatment(body)


def _distinct_questions(template):
    """A template's question ids are distinct across it, a choice's values within its question, and a
    number question's min is not above its max."""
    sections = template.get("sections")
    if not isinstance(sections, list):
        return
    seen = set()
    questions = [q for s in sections if isinstance(s, dict) and isinstance(s.get("questions"), list)
                 for q in s["questions"] if isinstance(q, dict)]
    questions += [q["followUp"] for q in questions if isinstance(q.get("followUp"), dict)]
    for number, question in enumerate(questions):
        if isinstance(question.get("id"), str):
            while question["id"] in seen:
                question["id"] = f"q{number}-{len(seen)}"[:64]
            seen.add(question["id"])
        options = question.get("options")
        if isinstance(options, list):
            values = set()
            for index, option in enumerate(options):
                if isinstance(option, dict) and isinstance(option.get("value"), str):
                    while option["value"] in values:
                        option["value"] = f"v{index}-{len(values)}"
                    values.add(option["value"])
        _ordered(question, "min", "max")


def _minutes(text):
    return int(text[:2]) * 60 + int(text[3:]) if isinstance(text, str) and len(text) == 5 else None


def _sound_spans(spans):
    """A day's spans run forwards, in order, without overlapping; a day that does not keeps no spans."""
    if not isinstance(spans, list):
        return spans
    previous = 0
    for span in spans:
        if not isinstance(span, dict):
            return spans
        start, end = _minutes(span.get("start")), _minutes(span.get("end"))
        if start is None or end is None:
            return spans
        if end <= start or start < previous:
            return []
        previous = end
    return spans


def _sound_hours(hours):
    """Working hours: sound spans, and each override's date once."""
    weekly = hours.get("weekly")
    if isinstance(weekly, dict):
        for day in list(weekly):
            weekly[day] = _sound_spans(weekly[day])
    overrides = hours.get("overrides")
    if isinstance(overrides, list):
        dates = set()
        for override in overrides:
            if isinstance(override, dict):
                override["hours"] = _sound_spans(override.get("hours"))
                date = _date(override.get("date"))
                while date is not None and date in dates:
                    date += datetime.timedelta(days=1)
                    override["date"] = date.isoformat()
                dates.add(date)


def _sound_treatment(treatment):
    """A treatment's products had not expired on its day, its follow-up is not before it, and its
    injection points name products of its own in their unit, never using more than was recorded."""
    if "treatedAreas" not in treatment:
        return
    performed = _instant(treatment.get("performedAt"))
    day = performed.date() if performed else _today()
    products = treatment.get("products") if isinstance(treatment.get("products"), list) else []
    for product in products:
        if isinstance(product, dict) and (_date(product.get("expiryDate")) or day) < day:
            product["expiryDate"] = day.isoformat()
    if (_date(treatment.get("followUpDate")) or day) < day:
        treatment["followUpDate"] = day.isoformat()
    points = treatment.get("injectionPoints") if isinstance(treatment.get("injectionPoints"), list) else []
    used = [0.0] * len(products)
    for point in points:
        index = point.get("productIndex") if isinstance(point, dict) else None
        if isinstance(index, float) and index.is_integer():
            index = int(index)  # JSON's 2.0 is the integer 2
        if not isinstance(index, int) or isinstance(index, bool):
            continue
        product = products[index] if index < len(products) and isinstance(products[index], dict) else None
        quantity, amount = (product or {}).get("quantity"), point.get("amount")
        fits = (isinstance(quantity, dict) and isinstance(amount, dict) and quantity.get("unit") == amount.get("unit")
                and isinstance(amount.get("value"), (int, float)) and isinstance(quantity.get("value"), (int, float))
                and used[index] + amount["value"] <= quantity["value"])
        if fits:
            used[index] += amount["value"]
        else:
            del point["productIndex"]


def _within_a_day(service):
    """A service's duration and buffers together fit in a day (480 minutes; a buffer left out is 0)."""
    def number(value):
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else 0
    if "durationMinutes" not in service:
        return
    fields = ("durationMinutes", "bufferBeforeMinutes", "bufferAfterMinutes")
    if sum(number(service.get(f)) for f in fields) > 480:
        for buffer in fields[1:]:
            if number(service.get(buffer)):
                service[buffer] = 0
