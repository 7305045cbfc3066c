"""The thread of a conversation: the customer's own facts, the current topic, and what an elliptical turn means.

Offers: ``state`` (``ConversationState``: product, amount, term, repayment method, the last worked example, days
overdue, periods repaid, income, the last offer and the topic of the last answer; a plain dict in one slot),
``facts`` (the extractors that read a turn into the state: periods repaid told apart from a term, days overdue,
another lender's rate with its unit), ``resolver`` (one reading of each turn against the topic and the last offer,
shared by every answer), ``rules`` (the catalogue's rules applied to the customer's facts: overdue days, prepayment
fee after N periods, payoff at month N, both repayment methods, affordability), ``trust`` (honest answers to
trust questions, closings, a forgotten application number, a complaint restated neutrally).

May import: credit.calculators, credit.catalogue, credit.compliance, credit.entities, credit.replies, credit.text,
  credit.tickets
"""
