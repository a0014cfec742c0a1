"""Campaigns: audiences, templates, deliveries, tracking and results."""
