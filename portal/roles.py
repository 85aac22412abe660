"""The roles a person can have in the portal."""

REP = "Rep"
MANAGER = "Manager"
CHANNEL_MANAGER = "Channel Manager"
APPROVER = "Approver"
ADMIN = "Admin"

PARTNER_ROLES = (REP, MANAGER)
INTERNAL_ROLES = (CHANNEL_MANAGER, APPROVER, ADMIN)

LABELS = {
    REP: "partner rep",
    MANAGER: "partner manager",
    CHANNEL_MANAGER: "channel manager",
    APPROVER: "approver",
    ADMIN: "admin",
}
