//! Who a caller is to Vellum: the roles a token can carry.

crate::string_enum! {
    /// A caller's role. Clinic roles come from a staff membership; `operator` runs the platform; `joiner` is
    /// someone signed in who is no clinic's active member (they may only join one with an invitation's
    /// code); `system` is Vellum itself in audit events of work no caller did (photo processing), never a
    /// token's.
    Role {
        Admin = "admin",
        Practitioner = "practitioner",
        Nurse = "nurse",
        FrontDesk = "front_desk",
        Billing = "billing",
        Patient = "patient",
        Operator = "operator",
        Joiner = "joiner",
        System = "system",
    }
}

impl Role {
    /// Roles a clinic can give its staff.
    pub const STAFF: &'static [Role] = &[Role::Admin, Role::Practitioner, Role::Nurse, Role::FrontDesk, Role::Billing];

    pub fn is_staff(self) -> bool {
        Role::STAFF.contains(&self)
    }
}
