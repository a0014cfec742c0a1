"""The model registry: one ModelVersion per trained artefact, activation, and the admin of models and jobs."""
