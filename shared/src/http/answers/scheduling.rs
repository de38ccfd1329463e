//! What the calendar's routes answer: its catalogue, working hours, availability, appointments, calendar
//! feeds and online booking.

use serde_json::{Value, json};

use super::{
    Answer, actor, answer, described, instant, nullable, object, of, page, price, reference, stored, text, version,
};
use crate::domain::scheduling::appointment::AppointmentStatus;
use crate::domain::scheduling::booking::{HOLD_MINUTES, HORIZON_DAYS, MAX_DAYS_PER_CALL};
use crate::domain::schema::one_of;
use crate::domain::values::{EntityId, TimeZoneName, UserId};
use crate::messages::templates::Language;

/// A start as the clinic's clock shows it, with its offset.
fn local_start() -> Value {
    json!({"type": "string", "format": "date-time", "description": "The start in the clinic's time zone, with its offset"})
}

/// The named schemas of these routes' answers.
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    let (id, user) = (of::<EntityId>(), of::<UserId>());
    let ids = json!({"type": "array", "items": id});
    let mut all = vec![
        (
            "CatalogueResource",
            described(
                stored(
                    "ResourceDetails",
                    &["status", "id", "updatedAt", "version"],
                    json!({"id": id, "updatedAt": instant(), "version": version()}),
                ),
                "A room or device of the clinic's catalogue, with its version",
            ),
        ),
        (
            "CatalogueService",
            described(
                stored(
                    "ServiceDetails",
                    &[
                        "bufferBeforeMinutes",
                        "bufferAfterMinutes",
                        "intervalMinutes",
                        "resourceIds",
                        "formTemplateIds",
                        "bookableOnline",
                        "status",
                        "id",
                        "updatedAt",
                        "version",
                    ],
                    json!({"id": id, "updatedAt": instant(), "version": version()}),
                ),
                "A service of the clinic's catalogue, its defaults filled in, with its version",
            ),
        ),
        (
            "SavedWorkingHours",
            described(
                stored(
                    "WorkingHours",
                    &["overrides", "updatedAt", "version"],
                    json!({
                        "updatedAt": {"anyOf": [instant(), {"const": ""}], "description": "Empty while none were set"},
                        "version": {"type": "integer", "minimum": 0, "description": "0 while none were set (nothing is worked)"},
                    }),
                ),
                "A calendar's working hours as kept (only the days worked listed), with their version",
            ),
        ),
        (
            "ServiceAvailability",
            described(
                object(
                    &["serviceId", "timeZone", "durationMinutes", "resourceIds", "items"],
                    json!({
                        "serviceId": id,
                        "timeZone": of::<TimeZoneName>(),
                        "durationMinutes": {"type": "integer", "minimum": 5},
                        "resourceIds": ids,
                        "items": {"type": "array", "items": object(&["start", "staff"], json!({
                            "start": local_start(),
                            "staff": {"type": "array", "minItems": 1, "items": user, "description": "Who is free to perform it then"},
                        }))},
                    }),
                ),
                "When a service can start over the dates asked, in order, and who is free then",
            ),
        ),
        (
            "Appointment",
            described(
                object(
                    &[
                        "id",
                        "patientId",
                        "serviceId",
                        "start",
                        "end",
                        "heldFrom",
                        "heldUntil",
                        "staffId",
                        "resourceIds",
                        "status",
                        "bookedBy",
                        "bookedAt",
                        "version",
                    ],
                    json!({
                        "id": id,
                        "patientId": id,
                        "serviceId": id,
                        "start": instant(),
                        "end": instant(),
                        "heldFrom": {"allOf": [instant()], "description": "The time it holds from: the buffer before included"},
                        "heldUntil": {"allOf": [instant()], "description": "The time it holds until: the buffer after included"},
                        "staffId": user,
                        "resourceIds": ids,
                        "note": text(200),
                        "status": one_of(AppointmentStatus::ALL),
                        "bookedBy": actor(),
                        "bookedAt": instant(),
                        "cancellation": object(&["by", "at", "reason", "late"], json!({
                            "by": actor(), "at": instant(), "reason": text(200),
                            "late": {"type": "boolean", "description": "Within the clinic's cancellation window"},
                        })),
                        "moves": {"type": "array", "minItems": 1, "description": "Where it was before each reschedule, oldest first",
                            "items": object(&["start", "staffId", "by", "at"], json!({
                                "start": instant(), "staffId": user, "by": actor(), "at": instant(),
                            }))},
                        "statusChanges": {"type": "array", "minItems": 1, "description": "Each step of its status walk after booking",
                            "items": object(&["status", "by", "at"], json!({
                                "status": one_of(AppointmentStatus::ALL), "by": actor(), "at": instant(),
                            }))},
                        "treatmentIds": {"type": "array", "minItems": 1, "maxItems": 20, "items": id,
                            "description": "The treatments charted in it, once completed"},
                        "version": version(),
                    }),
                ),
                "An appointment: its patient, service, time, performer, rooms and devices, and where it stands",
            ),
        ),
        (
            "CalendarFeedLink",
            described(
                object(
                    &["userId", "createdAt", "replaced", "url"],
                    json!({
                        "userId": user,
                        "createdAt": instant(),
                        "replaced": {"type": "boolean", "description": "A previous feed stopped working"},
                        "url": {"type": "string", "pattern": "/feeds/[A-Za-z0-9_-]{43}$", "description": "The secret iCalendar URL (shown once)"},
                    }),
                ),
                "A staff member's new calendar feed",
            ),
        ),
        (
            "CalendarFeedRevocation",
            described(
                object(&["userId", "revoked"], json!({"userId": user, "revoked": {"const": true}})),
                "A calendar feed revoked",
            ),
        ),
        (
            "BookingOffer",
            described(
                object(
                    &["clinicName", "timeZone", "language", "services", "holdMinutes", "horizonDays", "maxDaysPerCall"],
                    json!({
                        "clinicName": text(200),
                        "timeZone": of::<TimeZoneName>(),
                        "language": one_of(Language::ALL),
                        "services": {"type": "array", "items": object(&["id", "name", "durationMinutes", "price"], json!({
                            "id": id,
                            "name": text(200),
                            "durationMinutes": {"type": "integer", "minimum": 5},
                            "price": nullable(price()),
                        }))},
                        "holdMinutes": {"const": HOLD_MINUTES},
                        "horizonDays": {"const": HORIZON_DAYS},
                        "maxDaysPerCall": {"const": MAX_DAYS_PER_CALL},
                    }),
                ),
                "What a clinic's booking page offers: its name, time zone and language, the services patients may book online, and the booking rules",
            ),
        ),
        (
            "BookingAvailability",
            described(
                object(
                    &["serviceId", "timeZone", "items"],
                    json!({
                        "serviceId": id,
                        "timeZone": of::<TimeZoneName>(),
                        "items": {"type": "array", "items": object(&["start"], json!({"start": local_start()}))},
                    }),
                ),
                "Free starts of an online service over the dates asked, in order, without names",
            ),
        ),
        (
            "HeldBooking",
            described(
                object(
                    &["status", "start", "when", "heldUntil", "detail"],
                    json!({
                        "status": {"const": "held"},
                        "start": local_start(),
                        "when": {"type": "string", "description": "The start as the message spells it"},
                        "heldUntil": instant(),
                        "detail": {"type": "string"},
                    }),
                ),
                "A time held until the link texted to the phone given confirms it",
            ),
        ),
        (
            "ConfirmedBooking",
            described(
                object(
                    &["status", "clinicName", "service", "start", "when", "forms"],
                    json!({
                        "status": {"const": "confirmed"},
                        "clinicName": text(200),
                        "service": text(200),
                        "start": local_start(),
                        "when": {"type": "string", "description": "The start as the messages spell it"},
                        "forms": {"type": "boolean", "description": "The service has forms to fill in before the visit (a link follows)"},
                    }),
                ),
                "An online booking confirmed: what, where and when",
            ),
        ),
    ];
    // A booking's answer: the appointment, and for a service that names its treatment the safety alerts
    // the caller may see (the acknowledged among them).
    let mut booked = all.iter().find(|(name, _)| *name == "Appointment").map(|(_, s)| s.clone()).unwrap_or_default();
    booked["properties"]["safetyAlerts"] = json!({"type": "array", "items": reference("SafetyAlert"),
        "description": "What the safety check raised for a service that names its treatment, worst first (alerts resting on chart entries the caller's role does not read are left out)"});
    all.push(("BookedAppointment", described(booked, "A booked appointment, with what the safety check raised")));
    all
}

/// What each of these routes answers.
pub(super) fn answers() -> Vec<Answer> {
    let hours = || reference("SavedWorkingHours");
    vec![
        answer("resources.create", reference("CatalogueResource")).versioned(),
        answer("resources.list", page(reference("CatalogueResource"))),
        answer("resources.update", reference("CatalogueResource")).versioned(),
        answer("services.create", reference("CatalogueService")).versioned(),
        answer("services.list", page(reference("CatalogueService"))),
        answer("services.read", reference("CatalogueService")).versioned(),
        answer("services.update", reference("CatalogueService")).versioned(),
        answer("clinic.hours.read", hours()).versioned(),
        answer("clinic.hours.save", hours()).versioned(),
        answer("staff.hours.read", hours()).versioned(),
        answer("staff.hours.save", hours()).versioned(),
        answer("resources.hours.read", hours()).versioned(),
        answer("resources.hours.save", hours()).versioned(),
        answer("availability.read", reference("ServiceAvailability")),
        answer("appointments.book", reference("BookedAppointment")).versioned(),
        answer("appointments.list", page(reference("Appointment"))),
        answer("appointments.read", reference("Appointment")).versioned(),
        answer("appointments.cancel", reference("Appointment")).versioned(),
        answer("appointments.reschedule", reference("Appointment")).versioned(),
        answer("appointments.status", reference("Appointment")).versioned(),
        answer("patients.appointments", page(reference("Appointment"))),
        answer("calendar-feed.create", reference("CalendarFeedLink")),
        answer("calendar-feed.revoke", reference("CalendarFeedRevocation")),
        answer("booking.offer", reference("BookingOffer")),
        answer("booking.availability", reference("BookingAvailability")),
        answer("booking.hold", reference("HeldBooking")),
        answer("booking.confirm", reference("ConfirmedBooking")),
    ]
}
