"""Who may do what, proven: console accounts (bcrypt, roles, lockout), the one role table, console sessions,
the command line's logins and tokens, and the append-only audit log.

Offers: ``users``, ``roles`` (permission -> roles, for the console's pages and the CLI's verbs), ``sessions`` (the
console's cookie sessions), ``tokens`` (CLI logins, OPS_TOKEN, one-time job tokens; hashes only),
``session_file`` (the OS user's 0600 login file), ``identity`` (who runs a CLI verb, and its audit entry),
``cli`` (``login``/``logout``/``whoami``/``user`` on the ops command line), ``audit``.

May import: ops.project, ops.statedb
"""
