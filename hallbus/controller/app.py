"""The controller's composition root: the one place that builds store, modules, bus and RPC server.

`build_controller()` gives a `Controller` without a broker (engine tests, tools);
`HallController` is the running service that `hallbus serve` starts (tests start it in
process too); `open_store()` is the database as the command line opens it, with every
module's tables migrated. The modules beside the queue are the records' (cases,
appointments, guide, ratings), imported plainly: a packaging mistake fails at start.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from hallbus import schemas
from hallbus.admission import CLAIMED, Admission
from hallbus.brokerurl import BrokerAddress
from hallbus.client import BusClient
from hallbus.config import ConfigError, HallConfig
from hallbus.controller.admin import AdminModule, admin_module, lend_acting
from hallbus.controller.clock import Clock, system_clock
from hallbus.controller.controller import Controller, Publisher
from hallbus.controller.login_throttle import LoginThrottle
from hallbus.controller.module import ModuleContext, ModuleFactory
from hallbus.controller.queue import QueueModule
from hallbus.controller.retained_guard import RetainedGuard
from hallbus.controller.sdnotify import SdNotifier
from hallbus.controller.settings import HallSettings
from hallbus.controller.staff_accounts import StaffAccountsModule, staff_accounts_module
from hallbus.controller.staff_directory import StaffDirectory
from hallbus.controller.store import Store, db_path
from hallbus.nodeauth import NodeGuard, load_node_keys
from hallbus.notify.dispatch import NotifyDispatcher
from hallbus.notify.module import NotifyModule
from hallbus.notify.notifier import HttpNotifier, Notifier
from hallbus.privacy import load_hall_key
from hallbus.records import modules as records
from hallbus.reports.module import ReportsModule
from hallbus.rpc import Dispatcher, RpcServer
from hallbus.staff_secrets import inline_warning, with_staff_secrets
from hallbus.topics import Topics

log = logging.getLogger(__name__)

CONTROLLER_NODE = "controller"
REFRESH_INTERVAL_S = 0.02  # retained state at most 50 times a second (events are never held back)
STATS_INTERVAL_S = 1.0  # stats/today at most once a second


def feature_module_factories() -> list[ModuleFactory]:
    """The modules beside the queue engine: the records' cases, appointments, guide and ratings; notify; reports;
    admin; the console's staff accounts."""
    return [*records.controller_modules(), NotifyModule, ReportsModule, admin_module, staff_accounts_module]


def open_store(data_dir: Path | str, *, busy_timeout_s: float = 30.0) -> Store:
    """The hall's database with every module's migrations applied (the command line's way in).

    Beside a running controller this waits for its writer (`busy_timeout_s`); before the
    controller ever ran it makes every table, as the controller would.
    """
    store = Store(db_path(data_dir), busy_timeout_s=busy_timeout_s, owner=False)
    try:
        core = [(QueueModule.name, QueueModule.migrations), (LoginThrottle.name, LoginThrottle.migrations)]
        later = [(NotifyModule.name, NotifyModule.migrations), (ReportsModule.name, ReportsModule.migrations),
                 (AdminModule.name, AdminModule.migrations), (StaffAccountsModule.name, StaffAccountsModule.migrations),
                 (HallSettings.name, HallSettings.migrations)]
        for name, migrations in [*core, *records.migrations(), *later]:
            store.migrate(name, migrations)
    except BaseException:
        store.close()
        raise
    return store


def hall_key_for(config: HallConfig) -> bytes:
    """The hall key from `[privacy] key_file`, created on first start."""
    return load_hall_key(config.resolve(config.privacy.key_file), create=True)


def build_controller(
    config: HallConfig,
    data_dir: Path | str,
    *,
    clock: Clock | None = None,
    hall_key: bytes | None = None,
    publisher: Publisher | None = None,
    factories: list[ModuleFactory] | None = None,
    refresh_async: bool = True,
    refresh_interval_s: float = 0.0,
    stats_interval_s: float = 0.0,
) -> Controller:
    """Open the store in `data_dir`, build the queue and feature modules, and the controller core."""
    schemas.set_timezone(config.hall.timezone)
    warning = inline_warning(config)
    if warning:
        log.warning("%s", warning)
    config = with_staff_secrets(config)  # the one process that may know them
    data = Path(data_dir)
    clock = clock or system_clock(config.hall.timezone)
    key = hall_key if hall_key is not None else hall_key_for(config)
    store = Store(db_path(data))
    try:
        directory = StaffDirectory(config)  # who staff are now: hall.toml's under the console's accounts
        settings = HallSettings(config, directory)  # what managers change without a restart, over hall.toml
        queue = QueueModule(config, settings, directory)
        ctx = ModuleContext(
            config=config, topics=Topics(config.hall.id), hall_key=key, data_dir=data, clock=clock, queue=queue,
            staff=directory, settings=settings,
        )
        chosen = feature_module_factories() if factories is None else factories
        modules = [queue, queue.logins, *(f(ctx) for f in chosen), settings]
        lend_acting(modules)  # report.query checks the console session as admin.* do
        return Controller(
            config=config,
            store=store,
            queue_module=queue,
            modules=modules,
            hall_key=key,
            clock=clock,
            publisher=publisher,
            refresh_async=refresh_async,
            refresh_interval_s=refresh_interval_s,
            stats_interval_s=stats_interval_s,
        )
    except BaseException:
        store.close()
        raise


class HallController:
    """The running hall controller: store, modules, a persistent bus session, the RPC server, the ticker."""

    def __init__(
        self,
        config: HallConfig,
        *,
        data_dir: Path | str,
        broker: BrokerAddress,
        clock: Clock | None = None,
        hall_key: bytes | None = None,
        factories: list[ModuleFactory] | None = None,
        tick_s: float = 1.0,
        notifier: SdNotifier | None = None,
        gateway: Notifier | None = None,
    ) -> None:
        self.config = config
        self.data_dir = Path(data_dir)
        self.broker = broker
        self.tick_s = tick_s
        self.notifier = notifier or SdNotifier({})
        self.bus = BusClient(
            hall=config.hall.id,
            node=CONTROLLER_NODE,
            role="controller",
            broker=broker,
            persistent_session=True,
            keepalive=config.broker.keepalive,
        )
        self.controller = build_controller(
            config, self.data_dir, clock=clock, hall_key=hall_key, publisher=self.bus, factories=factories,
            refresh_interval_s=REFRESH_INTERVAL_S, stats_interval_s=STATS_INTERVAL_S,
        )
        self.dispatcher = self._dispatcher(gateway)
        self.rpc = RpcServer(self.bus, self._guarded(self.controller), admission=self._admission())
        self.retained = RetainedGuard(self.bus)
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._started = False

    def _dispatcher(self, gateway: Notifier | None) -> NotifyDispatcher | None:
        """The notification dispatcher when `[notify] enabled` (posting to `gateway`, else to `[notify] url`)."""
        n = self.config.notify
        module = next((m for m in self.controller.modules if isinstance(m, NotifyModule)), None)
        if not n.enabled or module is None:
            return None
        if gateway is None:
            token = None
            if n.token_file:
                path = self.config.resolve(n.token_file)
                try:
                    token = path.read_text(encoding="utf-8").strip()
                except OSError as err:
                    self.controller.close()
                    raise ConfigError(self.config.path, "notify.token_file", f"cannot read {path}: {err}") from err
            gateway = HttpNotifier(n.url, timeout_s=n.timeout_s, token=token)
        log.info("notifications on: posted to the gateway when %d or fewer are ahead and when called", n.ahead)
        return NotifyDispatcher(module, self.controller.store.reader, gateway, self.controller.clock)

    def _admission(self) -> Admission:
        """Each node's request budget ([rpc_limits]), kept by its signed id where it has one."""
        limits = self.config.rpc_limits
        known = [n.id for n in self.config.nodes]
        if limits.per_second <= 0:
            log.warning("[rpc_limits] per_second = 0: any node may send requests at full speed (load benchmarks only)")
        elif self.config.privacy.node_keys_file:
            log.info("requests taken per node: %g a second, %d at once, by signed node id", limits.per_second,
                     limits.burst)
        else:
            log.warning(
                "requests taken per node: %g a second, %d at once, by the node each reply topic claims: "
                "without node keys a node can spend another's budget by claiming its name", limits.per_second,
                limits.burst,
            )
        # signed, or (a hall without node keys) claimed
        web = {src: limits.web_scale for n in self.config.nodes if n.role == "web" for src in (n.id, CLAIMED + n.id)}
        return Admission(limits.per_second, limits.burst, known=known, scale=web)

    def _guarded(self, controller: Controller) -> Dispatcher:
        """The controller behind the signed-node-id check when the hall has node keys."""
        keys_file = self.config.privacy.node_keys_file
        limits = self.config.ticket_limits
        if not keys_file:
            log.warning(
                "no [privacy] node_keys_file: window actions are guarded by the broker ACL only, and "
                "ticket.issue is not paced per terminal ([ticket_limits]): without node keys no node "
                "has an identity to keep a pace by (development and load benchmarks only)"
            )
            return controller
        keys = load_node_keys(self.config.resolve(keys_file))
        log.info("window actions, tickets and ratings checked against %d node keys", len(keys))
        if limits.per_minute > 0:
            log.info(
                "ticket.issue paced per signed terminal: %d a minute, %d one after another",
                limits.per_minute, limits.burst,
            )
        else:
            log.warning("[ticket_limits] per_minute = 0: terminals issue tickets without a pace")
        return NodeGuard(controller, self.config, keys)

    def start(self, wait: float | None = 10.0) -> bool:
        """Publish the state, take requests, connect (retrying forever); True once connected within `wait`."""
        self.controller.publish_all()
        self.rpc.start()  # subscribed before the first connect: a resumed session delivers at once
        self.retained.start()  # junk retained on our state topics meanwhile is replaced on connecting
        connected = self.bus.start(wait=wait)
        self._ticker = threading.Thread(target=self._tick_loop, name="controller-tick", daemon=True)
        self._ticker.start()
        if self.dispatcher is not None:
            self.dispatcher.start()
        self._started = True
        self.notifier.ready()
        log.info("hall controller of %s serving (data %s)", self.config.hall.id, self.data_dir)
        return connected

    def _tick_loop(self) -> None:
        wd = self.notifier.watchdog_s
        wd_every = wd / 3 if wd else None
        last_wd = 0.0
        while not self._stop.wait(self.tick_s if wd_every is None else min(self.tick_s, wd_every)):
            self.controller.tick()
            self.retained.catch_up()
            try:
                self.controller.store.checkpoint()
            except Exception:
                log.exception("WAL checkpoint failed")
            # Pinged only after a tick went through the store, so a stuck writer stops the pings.
            if wd_every is not None and time.monotonic() - last_wd >= wd_every:
                self.notifier.watchdog()
                last_wd = time.monotonic()

    def stop(self) -> None:
        """Stop taking requests, finish the queued ones, publish `offline`, close the store."""
        if not self._started:
            self.controller.close()
            return
        self._started = False
        self.notifier.stopping()
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(10)
        if self.dispatcher is not None:  # its last outcomes recorded, so a restart does not post them again
            self.dispatcher.stop()
            self.controller.run_tx(self.dispatcher.module.apply_reports)
        self.rpc.stop()
        self.controller.flush(5)
        self.bus.stop()
        self.controller.close()
        log.info("hall controller stopped")
