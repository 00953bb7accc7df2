"""The read-only JSON API: each app's router, mounted at /api/, with its OpenAPI schema at /api/openapi.json.

Session authentication comes from Django's middleware: a signed-in browser sees what its pages
show (an organizer's drafts in progress), anyone else what the public sees. No interactive docs
page: ninja's would load Swagger UI from a CDN; read the schema with any OpenAPI viewer.
"""

from ninja import NinjaAPI

from analysis.api import router as analysis
from audit.api import router as audit
from deliberation.api import router as deliberation
from search.api import router as search
from votes.api import router as votes

api = NinjaAPI(
    title="Plenary",
    version="1",
    description="Read-only: definitions, versions, components, working groups, comments, ballots, votes, "
    "veto grants, disputes, audit events and outcomes, with the same visibility as the pages; and search over them. "
    "Lists are paged with `limit` (at most 500) and `offset`, and give the total `count`.",
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url=None,
)
api.add_router("", deliberation)
api.add_router("", votes)
api.add_router("", analysis)
api.add_router("", audit)
api.add_router("", search)
