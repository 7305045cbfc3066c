"""A conversation that answers an outreach notice: its context, its replies, consent, and the demo facts.

The engine that sends notices is the top-level ``outreach`` package; this one holds the business side it shares
with the actions.  Offers: ``context`` (the notice a conversation is replying to, read from the database),
``answers`` (replies about that loan and instalment), ``consent`` (退订/TD and resubscription applied to contact
points), ``seed`` (demo contacts and repayment facts).

May import: credit.answers, credit.catalogue, credit.db, credit.loans, credit.policy, credit.replies, credit.store,
  credit.views
"""
