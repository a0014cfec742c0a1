"""Celery tasks of the shop's core, on the `default` queue: webhook sends and privacy jobs.

customers.webhook_deliver: one attempt of one webhook delivery; a failed attempt queues the next
one with exponential backoff (the delay comes from the service, so the schedule is in one place).
"""
from __future__ import annotations

import logging

from celery import shared_task

from customers.webhooks.services import webhook_delivery_attempt

log = logging.getLogger(__name__)


@shared_task(name="customers.webhook_deliver")
def webhook_deliver(delivery_id: int) -> dict:
    outcome = webhook_delivery_attempt(delivery_id=delivery_id)
    if outcome.retry_in is not None:
        webhook_deliver.apply_async(kwargs={"delivery_id": delivery_id}, countdown=outcome.retry_in)
    return {"delivery_id": delivery_id, "status": outcome.status, "retry_in": outcome.retry_in}
