"""Privacy (Loi 25, GDPR): what Vécu knows about a person, and how little.

:mod:`~bot.privacy.pseudonyms` (keyed-hash sender ids), :mod:`~bot.privacy.redaction` (personal
data out of stored text), :mod:`~bot.privacy.deidentify` (what analytics may show),
:mod:`~bot.privacy.persons` (one person behind several conversations) and
:mod:`~bot.privacy.rights` (access, erasure, retention, audit).
"""
