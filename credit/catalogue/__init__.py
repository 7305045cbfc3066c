"""The catalogue: ``credit/catalogue.yml`` as strict, typed sections (pydantic 1.10), loaded once.

Offers: ``loader.load_catalogue`` and the ``Catalogue`` view with its section models (``schema``, ``products``,
``sections``), strict field types (``fields``), cross-section rules such as the 24% cap (``rules``), look-ups
by database code (``lookups``), the hotline and agents' hours (``contact``), and the sections that carry their
own matchers: ``needs`` (purposes, skippable questions), ``outreach`` (notices, triggers, contact rules),
``glossary`` (jargon in plain words), ``risk_signals`` and ``other_lenders``.

May import: credit.text
"""
