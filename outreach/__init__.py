"""Reaching out first: repayment reminders, status notices and follow-ups, within the contact rules.

* :mod:`outreach.facts` — which notices are due at a moment, from the business database;
* :mod:`outreach.rules` — contact hours, the daily cap, consent and the borrower's own contacts;
* :mod:`outreach.channels` — one delivery adapter per channel (a registry, vendors' wire formats);
* :mod:`outreach.engine` — plan once, claim once, deliver, retry, reconcile, audit;
* ``python -m outreach run|preview|status`` — for operators and cron.

The rules themselves are the catalogue section ``outreach:`` (:mod:`credit.catalogue.outreach`).
"""
