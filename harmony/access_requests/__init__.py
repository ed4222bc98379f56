"""Access requests: committees, the basket, proposals, reviews and votes, decision rules, the audit trail."""
