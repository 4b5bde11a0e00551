"""Privacy and compliance: the privacy gate, the per-subject vault and its keys, data
subjects' rights, retention, withheld items, reveals and the audit log."""
