"""What every page handler reaches through the request: the runtime and the views."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from mailbot.runtime import Runtime
from mailbot.web.views import Views


@dataclass
class Web:
    rt: Runtime
    views: Views


def web(request: Request) -> Web:
    found: Web = request.app.state.web
    return found
