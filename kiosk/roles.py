"""The roles a kiosk can play: role name -> the `build(ctx)` that makes its parts.

A role is: a Qt-free state object, a thin QObject view-model over it, a QML page under
`assets/qml/<role>/`, a package `kiosk/<role>/` whose `role.py` has `build(ctx: RoleContext) -> RoleParts`
(see `kiosk/context.py`), and one line in `ROLES`. The roles are imported plainly: a role
missing from an install is an ImportError when the kiosk starts, never a role silently gone.
See docs/kiosk.md.
"""

from __future__ import annotations

from collections.abc import Callable

from kiosk.context import RoleContext, RoleParts
from kiosk.counter import role as counter
from kiosk.hall import role as hall
from kiosk.tablet import role as tablet
from kiosk.terminal import role as terminal
from kiosk.window import role as window

Builder = Callable[[RoleContext], RoleParts]

# role name (SPEC section 8) -> its builder; add a line here for a new role.
ROLES: dict[str, Builder] = {
    "terminal": terminal.build,
    "counter": counter.build,
    "tablet": tablet.build,
    "window": window.build,
    "hall": hall.build,
}


def load_role(name: str) -> Builder:
    """The `build` function of role `name`; ValueError naming the known roles otherwise."""
    builder = ROLES.get(name)
    if builder is None:
        raise ValueError(f"unknown role {name!r}; this kiosk knows: {', '.join(sorted(ROLES))}")
    return builder
