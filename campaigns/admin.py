"""Admin of campaigns."""
