"""Reading the customer's raw text: the lowest layer every extractor and answer builds on.

Offers: ``halfwidth.normalize`` (width folding), ``spans`` (entity spans and the overlap rule), ``numerals``
(Chinese numerals), ``numbers`` (amounts, terms, rates, identifiers), ``inputs`` (the one identifier
normaliser), ``masking`` (personal data masked for display and logs), ``product_match.ProductMatcher`` (the one
product-name matcher), ``rate_wording`` (the one way a rate is written), ``speech`` (a reply as a voice channel
says it: figures in words) with ``ear`` (what a TTS engine reads badly — brackets, 「」, ÷ ×, APP menu paths —
rewritten as a person says it).

May import: credit.errors, credit.policy
"""
