"""Who may do what: console accounts (bcrypt, roles, lockout) and the append-only audit log.

Offers: ``users``, ``audit``.

May import: ops.project, ops.statedb
"""
