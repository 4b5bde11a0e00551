"""Quality: gold, agreement and the quality report, per-contributor quality, background
re-fits of the aggregator, and qualification tests."""
