"""Browser libraries from the npm registry, served by hallweb itself (SPEC 12: no CDN, no copies in the repo).

Finding them in node_modules/ at the version package-lock.json pins (and refusing to start
otherwise) is `hallbus.vendor`, shared with the city's wall; here is hallweb's route: each file of
`LIBRARIES` under `/static/vendor/{name}`, asked for by pages as `vendor_url(name)` (the version in
the query), kept by browsers for a year (`Cache-Control: public, max-age=31536000, immutable`).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import ETag
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File

from hallbus.vendor import (
    CACHE,
    LIBRARIES,
    NODE_MODULES_ENV,
    Vendor,
    VendorMissing,
    find_vendor,
    node_modules_dir,
)

__all__ = ["CACHE", "LIBRARIES", "NODE_MODULES_ENV", "Vendor", "VendorMissing", "find_vendor", "node_modules_dir",
           "vendor_route"]


def vendor_route(vendor: Vendor) -> Any:
    """`GET /static/vendor/{name}`: a file of `LIBRARIES` with a year's cache (304 to its ETag); anything else 404."""

    @get("/static/vendor/{name:str}", include_in_schema=False)
    async def vendor_file(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[Any]:
        path = vendor.files.get(name)
        if path is None:
            raise NotFoundException()
        tag = vendor.etag(name)
        if request.headers.get("if-none-match", "").strip() in (f'"{tag}"', f'W/"{tag}"'):
            return Response(b"", status_code=304, headers={"Cache-Control": CACHE, "ETag": f'"{tag}"'})
        return File(path, filename=name, content_disposition_type="inline", media_type="text/javascript",
                    headers={"Cache-Control": CACHE}, etag=ETag(value=tag))

    return vendor_file
