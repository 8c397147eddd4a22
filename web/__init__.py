"""The hall's web service `hallweb` (SPEC 12): the citizen's phone pages over the hall bus.

A bus client of its own (role `web`) beside the controller: it reads retained state, asks
the controller by RPC and never writes hall state itself. It knows nothing of Qt or the
kiosk (import-linter holds it to that). The parts:

- `public`: a ticket as a phone may see it (the JSON of `/api/v1/tickets/{id}`) and its words;
- `tickets`: the bus side, the state of every ticket an open page follows, pushed on change;
- `app`: the Litestar application (routes, templates, security headers);
- `cli`: `hallweb serve`.
"""
