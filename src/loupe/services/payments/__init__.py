"""Payments: rate cards and earnings, the payment log (the ledger, its keys and store),
payout files, witnesses, anchoring, and cost per accurate label."""
