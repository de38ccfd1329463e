//! What the pre-visit forms' routes answer: templates and their versions, invitations, the patient's link,
//! and the submissions staff review.

use serde_json::{Value, json};

use super::{
    Answer, actor, answer, described, instant, nullable, object, of, reference, request_schema, template_id, text,
    version, with_required,
};
use crate::domain::chart::ChartKind;
use crate::domain::forms::invitation::{Channel, InvitationStatus};
use crate::domain::schema::{one_of, trimmed_text};
use crate::domain::values::{EntityId, UserId};
use crate::messages::Channel as MessageChannel;

/// A template's title as saved (checked like the template's other texts: line breaks allowed).
fn title() -> Value {
    trimmed_text(200, true)
}

/// A template's content as stored: the `FormTemplate` body written out (a copy of a built-in one holds
/// its content), every question with its `required` flag.
fn template_content() -> Value {
    let mut template = request_schema("FormTemplate");
    let mut content = template["oneOf"][1].take();
    let question = "/properties/sections/items/properties/questions/items";
    for path in [question.to_string(), format!("{question}/properties/followUp")] {
        if let Some(required) = content.pointer_mut(&format!("{path}/required")).and_then(Value::as_array_mut) {
            required.push(json!("required"));
        }
    }
    described(content, "A form template's content: title, description, and sections of questions")
}

/// An invitation as staff see it (`Invitation::staff_view`), with `more` properties (always present).
fn invitation(description: &str, more: Value) -> Value {
    let required = vec![
        "id",
        "patientId",
        "forms",
        "channel",
        "expiresAt",
        "status",
        "submissionId",
        "createdBy",
        "createdAt",
        "version",
    ];
    let mut statuses: Vec<&str> = InvitationStatus::ALL.iter().map(|s| s.as_str()).collect();
    statuses.push("expired");
    let form = object(
        &["templateId", "version", "title"],
        json!({"templateId": template_id(), "version": version(), "title": {"type": "string"}}),
    );
    let properties = json!({
        "id": of::<EntityId>(),
        "patientId": of::<EntityId>(),
        "forms": {"type": "array", "items": form, "description": "The template versions the link asks for"},
        "channel": one_of(Channel::ALL),
        "expiresAt": described(instant(), "When the link stops working"),
        "status": {"enum": statuses, "description": "expired: an active link past its expiry (lists only)"},
        "submissionId": nullable(of::<EntityId>()),
        "createdBy": actor(),
        "createdAt": instant(),
        "version": version(),
    });
    described(with_required(object(&required, properties), more), description)
}

/// What became of the invitation's message: queued (e-mail or text), or none to send (a link to hand over).
fn delivery() -> Value {
    let queued = object(
        &["channel", "status", "attempts", "due", "sentAt", "error"],
        json!({
            "channel": one_of(MessageChannel::ALL),
            "status": {"const": "queued"},
            "attempts": {"type": "integer", "minimum": 0},
            "due": instant(),
            "sentAt": {"type": "null"},
            "error": {"type": "null"},
        }),
    );
    let by_hand = object(
        &["channel", "status", "detail"],
        json!({"channel": {"const": "link"}, "status": {"const": "not-sent"}, "detail": {"type": "string"}}),
    );
    json!({"anyOf": [queued, by_hand]})
}

/// A signature as staff see it: without its drawing (the consent's PDF shows it).
fn signature() -> Value {
    object(
        &["templateId", "questionId", "typedName", "signedAt", "ip", "userAgent", "consentTextSha256"],
        json!({
            "templateId": template_id(),
            "questionId": template_id(),
            "typedName": {"type": "string"},
            "signedAt": instant(),
            "ip": nullable(json!({"type": "string"})),
            "userAgent": nullable(json!({"type": "string"})),
            "consentTextSha256": {"type": "string", "pattern": "^[0-9a-f]{64}$",
                                  "description": "SHA-256 of the exact consent text signed, hex"},
        }),
    )
}

/// The named schemas of these routes' answers.
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    let saved = object(
        &["id", "version", "content", "savedBy", "savedAt"],
        json!({
            "id": template_id(),
            "version": version(),
            "content": reference("FormTemplateContent"),
            "copiedFrom": described(template_id(), "The built-in template this version was copied from"),
            "savedBy": of::<UserId>(),
            "savedAt": instant(),
        }),
    );
    let summary = object(
        &["id", "version", "title", "savedAt"],
        json!({"id": template_id(), "version": version(), "title": title(), "savedAt": instant()}),
    );
    let builtin = object(&["id", "title"], json!({"id": template_id(), "title": title()}));
    let templates = object(
        &["items", "builtIn"],
        json!({
            "items": {"type": "array", "items": summary, "description": "The clinic's templates, latest versions"},
            "builtIn": {"type": "array", "items": builtin, "description": "The built-in templates it can copy"},
        }),
    );
    let invitations = object(&["items"], json!({"items": {"type": "array", "items": reference("FormInvitation")}}));
    let link_form = object(
        &["templateId", "version", "content"],
        json!({"templateId": template_id(), "version": version(), "content": reference("FormTemplateContent")}),
    );
    let intake = object(
        &["clinicName", "patientFirstName", "forms", "draft", "expiresAt"],
        json!({
            "clinicName": text(200),
            "patientFirstName": text(200),
            "forms": {"type": "array", "items": link_form},
            "draft": {"type": "object", "additionalProperties": {"type": "object"},
                      "description": "The answers saved so far, by template id then question id ({} when none)"},
            "expiresAt": described(instant(), "When the link stops working"),
        }),
    );
    let submitted_form = object(
        &["templateId", "version", "title", "answers"],
        json!({
            "templateId": template_id(),
            "version": version(),
            "title": title(),
            "answers": {"type": "object",
                        "description": "By question id, the questions asked only; a signature is {signed, typedName}"},
        }),
    );
    let accepted = object(
        &["kind", "entryId", "templateId", "questionId", "index", "by", "at"],
        json!({
            "kind": one_of([ChartKind::Allergy, ChartKind::Medication]),
            "entryId": of::<EntityId>(),
            "templateId": template_id(),
            "questionId": template_id(),
            "index": nullable(json!({"type": "integer", "minimum": 0})),
            "by": actor(),
            "at": instant(),
        }),
    );
    let submission = object(
        &["id", "invitationId", "patientId", "forms", "signatures", "submittedAt", "accepted", "version"],
        json!({
            "id": of::<EntityId>(),
            "invitationId": of::<EntityId>(),
            "patientId": of::<EntityId>(),
            "forms": {"type": "array", "items": submitted_form},
            "signatures": {"type": "array", "items": signature()},
            "submittedAt": instant(),
            "accepted": {"type": "array", "items": accepted, "description": "What staff accepted into the chart"},
            "version": version(),
        }),
    );
    let submissions = object(&["items"], json!({"items": {"type": "array", "items": reference("FormSubmission")}}));
    let acceptance = object(
        &["submission", "created"],
        json!({
            "submission": reference("FormSubmission"),
            "created": {"type": "array", "description": "The chart entries made, in order", "items": {"anyOf": [
                reference("AllergyEntry"),
                reference("MedicationEntry"),
            ]}},
        }),
    );
    vec![
        ("FormTemplateContent", template_content()),
        ("FormTemplateVersion", described(saved, "One saved version of a clinic's form template")),
        ("FormTemplateList", described(templates, "The clinic's form templates and the built-in ones")),
        ("FormInvitation", invitation("An invitation to fill in forms from a link, as staff see it", json!({}))),
        (
            "IssuedFormInvitation",
            invitation(
                "A new invitation, its link (only in this answer) and what became of its message",
                json!({
                    "delivery": delivery(),
                    "link": {"type": "string", "pattern": "/intake/[A-Za-z0-9_-]{43}$",
                             "description": "The patient's link: Vellum keeps only its token's hash"},
                }),
            ),
        ),
        ("FormInvitationList", described(invitations, "A patient's invitations, newest first")),
        (
            "IntakeForms",
            described(intake, "What a patient's link shows: the clinic, their first name, the forms, the draft"),
        ),
        (
            "IntakeDraftSaved",
            described(object(&["savedAt"], json!({"savedAt": instant()})), "When the draft was saved"),
        ),
        (
            "IntakePhotoUpload",
            described(
                object(
                    &["photoId", "upload"],
                    json!({"photoId": of::<EntityId>(), "upload": reference("PresignedUpload")}),
                ),
                "A photo asked for through a link, and where to upload its bytes",
            ),
        ),
        (
            "IntakeReceipt",
            described(
                object(
                    &["submissionId", "submittedAt"],
                    json!({"submissionId": of::<EntityId>(), "submittedAt": instant()}),
                ),
                "The forms sent: the submission they made",
            ),
        ),
        (
            "FormSubmission",
            described(submission, "What a patient sent through a link: the answers by form version, the signatures"),
        ),
        ("FormSubmissionList", described(submissions, "A patient's submissions, newest first")),
        (
            "SubmissionAcceptance",
            described(acceptance, "The submission after the review, and the chart entries it made"),
        ),
    ]
}

/// What each of these routes answers.
pub(super) fn answers() -> Vec<Answer> {
    vec![
        answer("forms.templates.list", reference("FormTemplateList")),
        answer("forms.templates.read", reference("FormTemplateVersion")).versioned(),
        answer("forms.templates.save", reference("FormTemplateVersion")).versioned(),
        answer("invitations.create", reference("IssuedFormInvitation")),
        answer("invitations.list", reference("FormInvitationList")),
        answer("invitations.revoke", reference("FormInvitation")),
        answer("intake.read", reference("IntakeForms")),
        answer("intake.draft", reference("IntakeDraftSaved")),
        answer("intake.photo", reference("IntakePhotoUpload")),
        answer("intake.submit", reference("IntakeReceipt")),
        answer("submissions.list", reference("FormSubmissionList")),
        answer("submissions.read", reference("FormSubmission")).versioned(),
        answer("submissions.accept", reference("SubmissionAcceptance")).versioned(),
    ]
}
