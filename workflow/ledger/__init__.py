"""The chains of signed events: their encoding, appending to them, sealing them, and verifying them."""
