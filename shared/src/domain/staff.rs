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

/// The per-user lookup the token trigger and every request read: which clinic, which role, active or not.
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

/// A request to add a member.
#[derive(Clone, Debug)]
pub struct NewStaff {
    pub user_id: UserId,
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
        form.only(&["userId", "role", "displayName", "email"]);
        let user_id = form.req("userId");
        let role = staff_role(form);
        let display_name = form.req("displayName");
        let email = form.opt("email");
        Some(Self { user_id: user_id?, role: role?, display_name: display_name?, email })
    }

    /// The first administrator named when a clinic is opened (the role is implied).
    pub fn read_first_admin(form: &Form<'_>) -> Option<Self> {
        form.only(&["userId", "displayName", "email"]);
        let user_id = form.req("userId");
        let display_name = form.req("displayName");
        let email = form.opt("email");
        Some(Self { user_id: user_id?, role: Role::Admin, display_name: display_name?, email })
    }

    pub fn into_member(self, now: &str) -> StaffMember {
        StaffMember {
            user_id: self.user_id,
            role: self.role,
            display_name: self.display_name,
            email: self.email,
            status: StaffStatus::Active,
            created_at: now.to_string(),
            updated_at: now.to_string(),
            version: 1,
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
        let role = if form.has("role") { Some(staff_role(form)?) } else { None };
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
