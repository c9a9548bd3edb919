"""GET /docs: Swagger UI over the gateway's OpenAPI document, every asset served by the gateway itself.

The assets come from the swagger-ui-bundle package (the files of a Swagger UI release, inside the wheel): the page
loads nothing from the internet, so it works offline and behind a firewall, and no third party learns who reads
the docs. Only the files the page needs are served (an allow-list, not the package's folder: its own index.html
would load a demo document from the internet).

That release of Swagger UI (4.x) renders OpenAPI 3.0 documents only; /openapi.json is 3.1 (JSON Schema types such
as `["string", "null"]`, `const`, `examples`). So the page loads /docs/openapi-3.0.json, the same document
rewritten with the 3.0 spellings of the same facts (`nullable`, `enum`, `example`): `as_openapi_30` below. The
machine-readable reference stays /openapi.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import swagger_ui_bundle
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

ASSETS_DIR = Path(swagger_ui_bundle.swagger_ui_path)
ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}
# Relative URLs: the page is /docs, so they resolve under the gateway's own root (also behind a path prefix).
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Novara API</title>
<link rel="stylesheet" href="docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="docs/assets/favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({
  url: "docs/openapi-3.0.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  validatorUrl: null
});
</script>
</body>
</html>
"""
# Never ask a validator on the internet (validatorUrl: null above); no framing by other sites.
PAGE_HEADERS = {"X-Frame-Options": "DENY", "Cache-Control": "no-cache"}


async def page(request: Request) -> Response:
    return HTMLResponse(PAGE, headers=PAGE_HEADERS)


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    media_type = ASSETS.get(name)
    if media_type is None:
        return Response(status_code=404)
    return FileResponse(ASSETS_DIR / name, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})


def _schema_30(schema: dict[str, Any]) -> dict[str, Any]:
    out = {k: as_openapi_30(v) for k, v in schema.items() if k not in {"type", "const", "examples"}}
    kinds = schema.get("type")
    if isinstance(kinds, list):
        if "null" in kinds:
            out["nullable"] = True
        rest = [k for k in kinds if k != "null"]
        if len(rest) == 1:
            out["type"] = rest[0]
        elif rest:
            out["oneOf"] = [{"type": k} for k in rest]
    elif kinds is not None:
        out["type"] = kinds
    if "const" in schema:
        out["enum"] = [schema["const"]]
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        out["example"] = schema["examples"][0]
    return out


def as_openapi_30(node: Any) -> Any:
    """The document (or any part of it) in OpenAPI 3.0 spellings, for Swagger UI 4."""
    if isinstance(node, list):
        return [as_openapi_30(v) for v in node]
    if not isinstance(node, dict):
        return node
    # A schema has a type name (or list of names) or a const; a `properties` map may have a field called "type".
    if isinstance(node.get("type"), str | list) or ("const" in node and not isinstance(node["const"], dict)):
        return _schema_30(node)
    out = {k: as_openapi_30(v) for k, v in node.items()}
    if out.get("openapi", "").startswith("3.1"):
        out["openapi"] = "3.0.3"
    return out
