"""nginx for the web tests: Debian's binary run as an ordinary process in front of `hallweb`.

Its own prefix and main config in a temporary folder, free loopback ports, a self-signed
certificate made by openssl now; the `server` blocks are `systemd/hallweb-nginx.conf.example`
with only the ports, the certificate's paths and `hallweb`'s port put in.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from hallbus.localbroker import die_with_parent, free_port
from tests.web.conftest import REPO

NGINX = Path("/usr/sbin/nginx")
EXAMPLE = REPO / "systemd" / "hallweb-nginx.conf.example"

# The main config around the example's server blocks: what Debian's /etc/nginx/nginx.conf sets
# that matters here (gzip on), every path inside the test's prefix.
MAIN_CONF = """\
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
{user}
events {{ worker_connections 512; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    gzip on;
    include {prefix}/hallweb.conf;
}}
"""


def render(example: str, *, https_port: int, http_port: int, admin_port: int, web_port: int, cert: Path, key: Path) -> str:
    """The example with this machine's ports, certificate and `hallweb` address put in; nothing else changed."""
    changes = [
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("ssl_certificate     /etc/ssl/hallweb/fullchain.pem;", f"ssl_certificate     {cert};"),
        ("ssl_certificate_key /etc/ssl/hallweb/privkey.pem;", f"ssl_certificate_key {key};"),
    ]
    # The console's server, on the hall network's address: here on loopback, with the same certificate.
    changes += [
        ("listen 10.0.0.2:443 ssl http2;", f"listen 127.0.0.1:{admin_port} ssl http2;"),
        ("ssl_certificate     /etc/ssl/hallweb/admin-fullchain.pem;", f"ssl_certificate     {cert};"),
        ("ssl_certificate_key /etc/ssl/hallweb/admin-privkey.pem;", f"ssl_certificate_key {key};"),
    ]
    for old, new in changes:
        assert example.count(old) == 1, f"the example no longer says {old!r}: update this test with it"
        example = example.replace(old, new)
    n = example.count("proxy_pass http://127.0.0.1:8080;")
    assert n == 2, f"the example has {n} proxy_pass lines to hallweb, not 2 (phones, console): update this test"
    return example.replace("proxy_pass http://127.0.0.1:8080;", f"proxy_pass http://127.0.0.1:{web_port};")


def make_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
    return cert, key



@dataclass
class Nginx:
    """A running nginx: its process, HTTPS and HTTP addresses, the certificate to trust, its folder."""

    proc: subprocess.Popen[bytes]
    https: str
    http: str
    admin: str  # the console's server (the hall network's in a real hall)
    cert: Path
    prefix: Path

    def errors(self) -> str:
        """Its error log (for a failed assertion)."""
        log = self.prefix / "error.log"
        return log.read_text(errors="replace") if log.exists() else ""


def start_nginx(folder: Path, web_port: int, *, https_port: int = 0, http_port: int = 0) -> Nginx:
    """nginx with the example's server blocks in front of `hallweb` on `web_port` (checked by `nginx -t` first);
    its ports free ones unless given."""
    prefix = folder / "nginx"
    for sub in ("tmp", "logs"):
        (prefix / sub).mkdir(parents=True)
    cert, key = make_certificate(folder)
    https_port, http_port, admin_port = https_port or free_port(), http_port or free_port(), free_port()
    user = "user root root;" if os.geteuid() == 0 else ""  # as root, workers would switch to nobody
    (prefix / "nginx.conf").write_text(MAIN_CONF.format(prefix=prefix, user=user))
    (prefix / "hallweb.conf").write_text(render(EXAMPLE.read_text(), https_port=https_port, http_port=http_port,
                                                 admin_port=admin_port, web_port=web_port, cert=cert, key=key))
    args = [str(NGINX), "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")]
    checked = subprocess.run([*args, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
    return Nginx(proc, f"https://127.0.0.1:{https_port}", f"http://127.0.0.1:{http_port}", f"https://127.0.0.1:{admin_port}",
                 cert, prefix)
