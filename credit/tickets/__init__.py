"""Tickets: complaints, negotiations, certificates and call-backs, hand-offs and the risk-event log.

Offers: ``records`` (open, look up, close and follow up tickets; hand-offs; risk events), ``outcomes`` (a closed
ticket's states, scores and view), ``answers`` (a ticket read back with its deadline in Beijing time),
``categories`` (complaint categories in a message).

May import: credit.catalogue, credit.db, credit.errors, credit.policy, credit.replies, credit.store, credit.text,
  credit.views
"""
