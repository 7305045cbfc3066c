"""The console's pages, one module a family: ``main`` (login, dashboard, audit, users), ``models`` (train →
evaluate → promote → rollback), ``records`` (conversations, PIPL), ``work`` (inbox, training data).

May import: ops.access, ops.console, ops.privacy, ops.project, ops.retrain, ops.statedb, ops.text
"""
