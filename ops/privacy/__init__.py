"""Personal information: PIPL requests (find, export, delete) and the masked conversation viewer.

Offers: ``pipl``, ``conversations``.

May import: credit.catalogue, credit.db, credit.text, ops.project, ops.retrain, ops.statedb, ops.text
"""
