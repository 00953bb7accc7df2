"""How every list of the JSON API is paged: `limit` (1–500, 100 by default) and `offset`, with the total `count`.

Named by NINJA_PAGINATION_CLASS in settings, so each app's router pages with a bare `@paginate`.
"""

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

MAX_LIMIT = 500
MAX_OFFSET = 2**31 - 1  # beyond any list here, and within every database's OFFSET


class LimitOffset(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(100, ge=1, le=MAX_LIMIT, description="How many items to return, at most 500.")
        offset: int = Field(0, ge=0, le=MAX_OFFSET, description="How many items to skip.")

    def __init__(self, **kwargs):
        super().__init__(max_limit=MAX_LIMIT, **kwargs)
