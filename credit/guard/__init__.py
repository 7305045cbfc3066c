"""The output guard's business logic: what may leave (:mod:`credit.guard.review`) and the audit record
of what did not (:mod:`credit.guard.records`).  The Rasa glue is :mod:`server.patches.output`."""
