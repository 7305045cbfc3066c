"""What the assistant says: reply texts composed from the catalogue, the calculators and the service views.

Offers: ``texts`` (rates, topics, progress, tickets, risk, hand-off), ``explain`` (every fee, jargon in plain
words, objections answered on their point), ``lender_replies`` (another lender named), ``repeats`` (never the
same block twice in a conversation), ``suggestions`` (a suggestion thanked and restated).

May import: credit.calculators, credit.catalogue, credit.compliance, credit.replies, credit.text, credit.tickets,
  credit.views
"""
