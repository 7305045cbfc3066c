"""The credit database: SQLAlchemy 1.4 tables by family, and the engine (SQLite by default, PostgreSQL by URL).

Offers: ``engine`` (``get_engine``, ``init_db``, ``session_scope``, ``wipe_all``, ``resolve_database_url``),
``base`` (``Base``, the exact money/rate and UTC column types, shared constants), and the tables: ``loans``
(customers, applications, loans, instalments), ``tickets`` (tickets, call-back numbers, hand-offs, risk events,
outcomes), ``identity`` (verification counters, attempts, grants, one-time codes), ``sms`` (the outbox),
``outreach`` (contact points, consents, repayment records, notices and attempts).  Every table module
registers on ``base.Base``; ``engine.init_db`` imports them all first.

May import: nothing of credit (the bottom layer)
"""
