//! Lambda function for `POST /v1/patients/{patientId}/invitations/{invitationId}/revoke`.

vellum::function_main!("invitations-revoke");
