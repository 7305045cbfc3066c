"""The live output guard's business logic: what may leave, and the audit record of what did not.

Offers: ``review`` (one bot message checked by the one compliance checker: passed, masked in place, or replaced by
the safe line with a hand-off summary) and ``records`` (the ``compliance_interceptions`` audit rows and their
hand-offs, read by the ops console).  The Rasa glue is :mod:`server.patches.output`.

May import: credit.clock, credit.compliance, credit.db, credit.text
"""
