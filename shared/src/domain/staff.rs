//! Staff membership: who works at a clinic, in which role, and whether they still may sign in.

use serde::{Deserialize, Serialize};

use super::fields::{Form, Issue};
use super::role::Role;
use super::values::{Email, EntityId, ShortText, UserId};

crate::string_enum! {
    /// Whether a member may use Vellum.
    StaffStatus { Active = "active", Deactivated = "deactivated" }
}

/// A staff member of a clinic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StaffMember {
    pub user_id: UserId,
    pub role: Role,
    pub display_name: ShortText,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    pub status: StaffStatus,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl StaffMember {
    /// Whether the member counts among the clinic's active administrators.
    pub fn is_active_admin(&self) -> bool {
        self.role == Role::Admin && self.status == StaffStatus::Active
    }
}

/// The per-user lookup the token trigger reads: which clinic, which role. It exists only while the user is
/// an active member; deactivation deletes it, so the user is free to join another clinic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    pub clinic_id: EntityId,
    pub user_id: UserId,
    pub role: Role,
    pub status: StaffStatus,
}

impl Membership {
    pub fn of(clinic: EntityId, member: &StaffMember) -> Self {
        Self { clinic_id: clinic, user_id: member.user_id.clone(), role: member.role, status: member.status }
    }

    pub fn is_active(&self) -> bool {
        self.status == StaffStatus::Active
    }
}

/// An invitation to join a clinic's staff: whoever signs in and presents its code within the week
/// becomes the member it describes. Nobody is made a member without accepting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StaffInvitation {
    pub id: EntityId,
    pub clinic_id: EntityId,
    pub role: Role,
    pub display_name: ShortText,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    pub invited_by: UserId,
    /// The inviter's role: an operator (a clinic's first administrator) or an administrator, whose code
    /// stops working when they are no longer an active administrator.
    pub inviter_role: Role,
    pub created_at: String,
    /// Unix seconds after which the code no longer works.
    pub expires_at: i64,
}

/// How long a staff invitation's code works.
pub const STAFF_INVITATION_DAYS: i64 = 7;

impl StaffInvitation {
    /// The member the invitation makes of `user`, at `version` (one past a former membership's record).
    pub fn member(&self, user: UserId, now: &str, version: u64) -> StaffMember {
        StaffMember {
            user_id: user,
            role: self.role,
            display_name: self.display_name.clone(),
            email: self.email.clone(),
            status: StaffStatus::Active,
            created_at: now.to_string(),
            updated_at: now.to_string(),
            version,
        }
    }
}

/// A request to invite a member: the role and name the clinic gives them.
#[derive(Clone, Debug)]
pub struct NewStaff {
    pub role: Role,
    pub display_name: ShortText,
    pub email: Option<Email>,
}

fn staff_role(form: &Form<'_>) -> Option<Role> {
    let role: Role = form.req("role")?;
    if role.is_staff() {
        Some(role)
    } else {
        form.reject("role", Issue::Rule("must be one of: admin, practitioner, nurse, front_desk, billing".into()));
        None
    }
}

impl NewStaff {
    pub fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["role", "displayName", "email"]);
        let role = staff_role(form);
        let display_name = form.req("displayName");
        let email = form.opt("email");
        Some(Self { role: role?, display_name: display_name?, email })
    }

    /// The first administrator invited when a clinic is opened (the role is implied).
    pub fn read_first_admin(form: &Form<'_>) -> Option<Self> {
        form.only(&["displayName", "email"]);
        let display_name = form.req("displayName");
        let email = form.opt("email");
        Some(Self { role: Role::Admin, display_name: display_name?, email })
    }

    /// The invitation, made by `by` (in their role) at `now` (Unix seconds `now_seconds`).
    pub fn invitation(
        self,
        id: EntityId,
        clinic: EntityId,
        (by, inviter_role): (UserId, Role),
        now: &str,
        now_seconds: i64,
    ) -> StaffInvitation {
        StaffInvitation {
            id,
            clinic_id: clinic,
            role: self.role,
            display_name: self.display_name,
            email: self.email,
            invited_by: by,
            inviter_role,
            created_at: now.to_string(),
            expires_at: now_seconds + STAFF_INVITATION_DAYS * 86_400,
        }
    }
}

/// A change to a member: role, status or display name.
#[derive(Clone, Debug, Default)]
pub struct StaffChange {
    pub role: Option<Role>,
    pub status: Option<StaffStatus>,
    pub display_name: Option<ShortText>,
}

impl StaffChange {
    pub fn read(form: &Form<'_>) -> Option<Self> {
        form.only(&["role", "status", "displayName"]);
        let role = if form.given("role") { Some(staff_role(form)?) } else { None };
        let status = form.opt("status");
        let display_name = form.opt("displayName");
        if role.is_none() && status.is_none() && display_name.is_none() {
            form.reject("", Issue::Shape("name at least one of role, status, displayName".into()));
            return None;
        }
        Some(Self { role, status, display_name })
    }

    /// Whether the change would take away the caller's own administration rights.
    pub fn demotes_self(&self) -> bool {
        self.role.is_some_and(|r| r != Role::Admin) || self.status == Some(StaffStatus::Deactivated)
    }

    /// Whether the change would bring back a deactivated member (who returns only by a new invitation).
    pub fn reactivates(&self, member: &StaffMember) -> bool {
        member.status == StaffStatus::Deactivated && self.status == Some(StaffStatus::Active)
    }

    pub fn apply(self, member: &StaffMember, now: &str) -> StaffMember {
        StaffMember {
            role: self.role.unwrap_or(member.role),
            status: self.status.unwrap_or(member.status),
            display_name: self.display_name.unwrap_or_else(|| member.display_name.clone()),
            updated_at: now.to_string(),
            version: member.version + 1,
            ..member.clone()
        }
    }
}
