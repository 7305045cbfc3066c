"""Custom Rasa 3.6 NLU graph components.

Referenced from config.yml by module path, e.g.
``- name: nlu_components.credit_entities.CreditEntityExtractor``.
The modules register themselves with ``DefaultV1Recipe`` on import, so this
package must be importable from the directory ``rasa`` is started in.
"""
