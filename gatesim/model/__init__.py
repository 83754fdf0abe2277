"""Model building blocks: distributions, calendars."""
