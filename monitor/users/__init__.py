"""Console accounts: users and roles, passwords, sessions, API tokens, sign-in limits, the console audit log."""
