"""Words a person may text to the companion's number that mean something before any template is read.

Carriers and Twilio give the opt-out and opt-in words a meaning of their own, and HELP and MENU are
the companion's: the inbound-text handler acts on these, and the content checks let no template claim one.
"""

from __future__ import annotations

# Twilio's default opt-out and opt-in words (its Advanced Opt-Out defaults): Twilio stops texting a number
# that sends one of these whatever we do, so the companion must treat every one of them the same way,
# or it would go on queueing texts that Twilio then refuses (error 21610).
OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"})
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})
RESERVED_KEYWORDS = OPT_OUT_KEYWORDS | OPT_IN_KEYWORDS | {"HELP", "INFO", "MENU"}
