"""hallweb on the hall server (docs/install.md steps 5 and 5a): one hall.toml for it and the controller.

That file's `[broker] credentials_file` is the controller's (step 5); hallweb's own login comes
from its unit's EnvironmentFile (step 5a). Reading the file first, hallweb logged in as the
controller, and on a broker that binds client ids to logins the two pushed each other off
about ten times a second: no ticket, no call, no screen for the whole hall.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from hallbus.cli_common import broker_from_config
from hallbus.controller.app import HallController
from hallbus.localbroker import die_with_parent, free_port
from hallbus.sample import open_all_day
from tests.hallbus.deploy.secured import creds, secured_broker
from tests.web.conftest import REPO, START_S, bus_up, wait_until


def test_hallweb_on_the_hall_server_logs_in_as_web_not_as_the_controller(tmp_path: Path) -> None:
    out = tmp_path / "broker"
    broker = secured_broker(out)
    web_port = free_port()
    path, config = open_all_day(tmp_path / "hall", text=re.sub(
        r'(?m)^# credentials_file = .*$', f'credentials_file = "{out}/credentials/controller.json"',
        (Path(REPO) / "assets" / "hall.example.toml").read_text(encoding="utf-8")
        .replace("port = 1883", f"port = {broker.port}")
        .replace('listen = "127.0.0.1:8080"', f'listen = "127.0.0.1:{web_port}"'),
    ))
    assert config.broker.credentials_file, "the server's hall.toml names the controller's login"
    broker.start()
    controller = HallController(config, data_dir=tmp_path / "data", broker=broker_from_config(config), tick_s=0.2)
    web = creds(out, "web")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HALL_MQTT_USERNAME": web["username"],
           "HALL_MQTT_PASSWORD": web["password"], "HALL_NODE_KEY": web["node_key"]}  # /etc/hallkit/hallweb.env
    log = tmp_path / "hallweb.log"
    proc: subprocess.Popen[bytes] | None = None
    try:
        assert controller.start(wait=10), "the controller could not log in with its credentials file"
        with log.open("ab") as err:
            proc = subprocess.Popen([sys.executable, "-m", "web", "serve", "--config", str(path)], cwd=REPO,
                                    stdout=subprocess.DEVNULL, stderr=err, env=env, preexec_fn=die_with_parent)
        wait_until(lambda: proc.poll() is not None or bus_up(f"http://127.0.0.1:{web_port}"), START_S, "hallweb up")
        assert proc.poll() is None, log.read_text(errors="replace")
        said = broker.log_path.read_text(errors="replace")
        assert "as web (" in said and "u'web'" in said, "hallweb logged in with its own login"
        assert said.count("u'controller'") == 1, "the controller's connection was never taken over"
        assert controller.bus.connect_count == 1 and controller.bus.connected
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(15)
        controller.stop()
        broker.stop()
