"""Outbound delivery: the transactional outbox and the worker that empties it.

Callers use :func:`~node.outbound.queue.enqueue` inside their own transaction
and :func:`~node.outbound.queue.mark_domain_alive` when a domain talks to us;
the app (or ``sharing-care worker``) runs :func:`~node.outbound.worker.run_worker`.
"""
