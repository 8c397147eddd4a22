"""The city command centre (市“互联网+政务服务”指挥中心, SPEC 13): `hallcity` listens to every hall's bridged bus.

Only the bus's topics and schemas are shared with the hall (import-linter holds it); the
state and history live in PostgreSQL (`city.db`), fed by `city.ingest` and read by `city.api`.
"""
