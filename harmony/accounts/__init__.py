"""People: users and their identities at OpenID providers, role grants, API tokens, sign-in."""
