"""People: users and their sessions, contributor profiles and clearances, reputation
standing, and who is eligible for which item."""
