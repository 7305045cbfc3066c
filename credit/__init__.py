"""Business logic of the credit assistant: plain, typed Python with no Rasa in it.

Rasa glue (``actions/``, ``nlu_components/``, ``connectors/``) calls into this package; nothing here imports
Rasa, the channels, ``ops``, the harness or the tests.  The packages are domains, from the bottom up:

- ``credit.text``: reading the customer's raw text (widths, numbers, numerals, spans, masking, identifiers).
- ``credit.db``: the SQL tables and the engine, by table family.
- ``credit.catalogue``: ``credit/catalogue.yml`` (the one source of products, rates, fees and texts) as typed,
  validated sections with their matchers.
- ``credit.tickets``, ``credit.needs``, ``credit.sms``: tickets and complaints, need discovery, the SMS gateway.
- ``credit.answers``: the reply texts built from the catalogue and the service views.
- ``credit.outreach``: what a conversation that answers an outreach notice is about, and its replies.
- ``credit.voice``: the answers written for the ear (phone calls, WeChat voice messages), from the same facts.

The core stays here at the package root, because it is what every domain package shares and because ``python -m
credit.seed`` and ``python -m credit.migrate`` are contracts; a ``core/`` folder would lengthen every import
without separating anything. Its modules come in tiers, and each may import only what its line below lists
(checked, with every package's own "May import" line, by ``tests/project/test_package_rules.py``):

Core modules:
- clock, errors, policy, replies, session_carry, views: nothing of credit (the foundation)
- store: credit.db, credit.errors
- calculators: credit.catalogue
- compliance: credit.catalogue, credit.text
- verification: credit.db, credit.errors, credit.policy, credit.sms, credit.store, credit.text, credit.tickets,
  credit.views
- loans: credit.calculators, credit.catalogue, credit.db, credit.errors, credit.policy, credit.store, credit.text,
  credit.tickets, credit.verification, credit.views
- rules_sms: credit.answers, credit.catalogue, credit.compliance, credit.db, credit.errors, credit.replies,
  credit.sms, credit.store, credit.text, credit.verification
- service: credit.db, credit.loans, credit.rules_sms, credit.sms, credit.store, credit.tickets, credit.verification,
  credit.views, credit.wechat_identity
- wechat_identity: credit.db, credit.text
- entities: credit.catalogue, credit.needs, credit.text, credit.tickets
- seed: credit.catalogue, credit.db, credit.loans, credit.outreach, credit.text, credit.wechat_identity
- migrate: credit.db
"""
