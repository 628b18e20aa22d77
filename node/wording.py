"""Errors whose message is a sentence with values in it, said in English on the command line
and in the page's language on the web.

`OfferError("unknown category {category!r}: use one of {choices}", category=…, choices=…)`:
`str()` of it is the English sentence, with the values put in (what the command line prints,
unchanged); a web page translates the sentence as written (its catalogue entry, found by the
translators' extraction under the exception's name) and puts the values into the translation
(node/web/i18n.py `said`). A message without values is used as given, braces and all.
"""

from __future__ import annotations


class WordedError(ValueError):
    """A domain's refusal: `template` is the English sentence, `values` what goes into it."""

    def __init__(self, template: str, /, **values: object) -> None:
        super().__init__(template.format(**values) if values else template)
        self.template = template
        self.values = values

    def said_in(self, translated: str) -> str:
        """The message from its translated template (the English one if that does not fit)."""
        if not self.values:
            return translated
        try:
            return translated.format(**self.values)
        except (KeyError, IndexError, ValueError):
            return str(self)
