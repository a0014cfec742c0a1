"""Churn risk, purchase probability and lifetime value: training, nightly scores, reasons, drift."""
