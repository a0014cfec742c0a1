"""Predictions: churn risk (calibrated gradient boosting), BG/NBD purchase model, Gamma-Gamma spend
model and lifetime value, per-customer reasons and drift. Pure numpy/scipy/sklearn, no Django."""
