"""Notifications: the outbox of e-mails (sent after commit and by `harmony mail send`) and in-app notices."""
