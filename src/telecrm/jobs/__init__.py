"""Background work: Celery tasks on RabbitMQ or Redis across machines, or the same task
functions in process when no broker is set (``telecrm.jobs.dispatch``)."""
