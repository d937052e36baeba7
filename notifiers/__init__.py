"""How a reminder leaves the building (console, e-mail, webhooks). Knows only the message it is handed."""
