"""How a reminder leaves the building (console, e-mail, webhooks). Knows only the message it is handed.

Build a channel with ``build(channel, settings)``; bring your own with ``register(channel, factory)``
or an entry point in the ``zwgk.notifiers`` group whose object is a ``factory(settings) -> Notifier``.
"""

__distribution__ = "zwgk-workflow"  # workflow.names checks this line

from notifiers.base import Contact, Message, Notifier, NotifierConfigError, Result, send_timeout
from notifiers.redaction import SECRET_KEYS, redact
from notifiers.registry import ENTRY_POINT_GROUP, Factory, build, channels, register

__all__ = [
    "ENTRY_POINT_GROUP",
    "SECRET_KEYS",
    "Contact",
    "Factory",
    "Message",
    "Notifier",
    "NotifierConfigError",
    "Result",
    "build",
    "channels",
    "redact",
    "register",
    "send_timeout",
]
