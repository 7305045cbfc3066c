"""Need discovery's figures and product matching (the purposes and questions live in ``credit.catalogue.needs``).

Offers: ``figures`` (income and existing monthly repayments told apart from a loan amount), ``matching`` (which
products fit a purpose and figures), ``answers`` (the recommendation: materials, a worked example, an
affordability hint that only advises).

May import: credit.calculators, credit.catalogue, credit.compliance, credit.replies, credit.text
"""
