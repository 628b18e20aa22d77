"""Members and their accounts: invitations, roles, suspension and deletion, passwords, sessions.
Builds on content (deleting an account deletes its posts)."""
