"""Give and take (FEP-0837): the terms of an offer or request, publishing and closing them,
responses, matching, agreements made here or elsewhere, the hours ledger. Builds on content."""
