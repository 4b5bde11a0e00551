"""Projects and their data: definition and membership, life after creation, items,
imports, exports, media, webhooks, and progress."""
