"""Outgoing webhooks: endpoints that integrations (an ERP, a fulfilment
service, analytics) register, and the signed deliveries of the shop's events
to them (README, "Outgoing webhooks")."""
