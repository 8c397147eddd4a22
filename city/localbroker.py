"""The city broker a city really runs (`hallcity broker-config`), on free loopback ports: for tests, the demo and the benchmark.

Its logins: `hallcity` (password in `hallcity_password_file`; `hallcity_url`), one per hall named
at start (`credentials("hall-{id}")`, on `bridge_port`), and the simulator's `hallsim` (`url`
carries it, for `city.sim.Publisher`: it writes every hall's topics and reads nothing).
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path

from city import brokerconf
from city.config import parse_city_config
from hallbus.localbroker import LocalBroker, free_port

HALLCITY_USER = "hallcity"


class CityBroker(LocalBroker):
    """One Mosquitto started from the generated config (two listeners, logins, ACLs), stopped by its PID."""

    def __init__(self, workdir: Path, halls: list[str] | tuple[str, ...] = (),
                 tls: tuple[Path, Path] | None = None) -> None:
        """`tls`: (certificate, key) for the halls' listener."""
        workdir = Path(workdir)
        (workdir / "persist").mkdir(parents=True, exist_ok=True)
        port, self.bridge_port = free_port(), free_port()
        self.hallcity_password_file = workdir / "hallcity.password"
        lines = ["[broker]", 'host = "127.0.0.1"', f"port = {port}", f"bridge_port = {self.bridge_port}",
                 f'username = "{HALLCITY_USER}"', f'password_file = "{self.hallcity_password_file}"', "",
                 "[db]", 'url = "postgresql://unused@127.0.0.1/unused"', ""]
        for h in halls:
            lines += ["[[halls]]", f'id = "{h}"', f'name = "{h}"', ""]
        toml = workdir / "broker-city.toml"
        toml.write_text("\n".join(lines), encoding="utf-8")
        self.conf_dir = workdir / "conf"
        files = brokerconf.build(parse_city_config(toml.read_text(encoding="utf-8"), toml), self.conf_dir,
                                 listen="127.0.0.1", persistence_dir=f"{workdir / 'persist'}/",
                                 run_as=getpass.getuser(), sim=True, tls_cert=str(tls[0]) if tls else None,
                                 tls_key=str(tls[1]) if tls else None)
        brokerconf.write(files, self.conf_dir)
        super().__init__(workdir, port, conf_file=self.conf_dir / "mosquitto.conf")

    def credentials(self, login: str) -> dict[str, str]:
        """A login's credentials file as `hallcity broker-config` wrote it."""
        data: dict[str, str] = json.loads((self.conf_dir / "credentials" / f"{login}.json").read_text(encoding="utf-8"))
        return data

    @property
    def url(self) -> str:
        """The broker as an mqtt:// URL with the simulator's login (it may write every hall's topics)."""
        sim = self.credentials(brokerconf.SIM_LOGIN)
        return f"mqtt://{sim['username']}:{sim['password']}@{self.host}:{self.port}"

    @property
    def hallcity_url(self) -> str:
        """The broker as an mqtt:// URL with hallcity's login (it reads every hall and hallcity/v1/#)."""
        password = self.hallcity_password_file.read_text(encoding="utf-8").strip()
        return f"mqtt://{HALLCITY_USER}:{password}@{self.host}:{self.port}"

    def toml_lines(self) -> str:
        """The `[broker]` keys of a city.toml logging in as `hallcity` here."""
        return (f'username = "{HALLCITY_USER}"\npassword_file = "{self.hallcity_password_file}"\n'
                f"bridge_port = {self.bridge_port}\n")
