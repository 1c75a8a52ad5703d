"""The HTTP gateway: salesflow for systems that speak HTTP rather than Kafka.

Web forms, marketing tools and webhook-driven SaaS post a lead or any inbound command as JSON
(`salesflow gateway`). Each request is validated with the published contracts, authenticated
(an API key, or an HMAC-signed webhook; each credential names its upstream principal and the
event types it may send), turned into an envelope whose event id derives from the request's
`Idempotency-Key`, and written to the gateway's own outbox in its own PostgreSQL schema; the
shared relay publishes it. So the gateway gives an HTTP client what the workers give Kafka
clients: an accepted request (202) is never lost and a retried one is published once.

Read endpoints: a deal's events across the topics (`salesflow trace`) and the receivables.
It reaches the services only over Kafka and their tables' read-only SQL, never their code.
"""
