"""Answers written for the ear (issue 28): the voice form of every answer kind, from the same facts as the text.

A caller cannot scroll back, so a phone turn says the one point that answers the question, then offers the
next point ("想听提前还款怎么算利息，请按1或直接说"), in at most :data:`~credit.voice.turns.SPOKEN_LIMIT` spoken
characters, key menu included, about the product in context only (otherwise it asks which one, by key).  The
points are composed here from ``credit/catalogue.yml`` (the figures and the catalogue's own sentences) and the
service views; the text forms in ``credit.answers`` are not copied.  Every word goes through the ear gate
(``credit.text.speech``), so brackets, 「」, ÷ ×, % and APP menu paths never reach the TTS engine.

Offers: ``turns`` (points, forms, the first and the next turn, the budget), ``menu`` (the one wording of a
spoken key menu), ``rules`` (prepayment, repayment, overdue, conditions and materials, limits, account
services), ``money`` (rates, fees, repayment methods compared, plain words, the recommendation), ``service``
(progress, loan details and pay-off, hand-off, the fraud warning, risk signals), ``generic`` (any text reply cut
into spoken points), ``kinds`` (the registry that rebuilds a general answer kind for the next turn).

May import: credit.answers, credit.calculators, credit.catalogue, credit.compliance, credit.needs, credit.replies,
  credit.text, credit.views
"""
