"""Statistics: level monitors, warm-up truncation, confidence intervals, queueing formulas."""
