"""The native REST API, /api/v1, with OpenAPI docs at /docs."""

from fastapi import APIRouter, Depends

from portal.api_v1 import (
    access,
    data,
    datasets,
    exchange,
    harvest,
    organizations,
    quality,
    resources,
    search,
    session_tokens,
    tokens,
)
from portal.api_v1.ledger import router as ledger_router

router = APIRouter(prefix="/api/v1", dependencies=[Depends(tokens.enforce_token_scope)])
router.include_router(session_tokens.router)
router.include_router(organizations.router)
router.include_router(datasets.router)
router.include_router(resources.router)
router.include_router(quality.router)
router.include_router(search.router)
router.include_router(data.router)
router.include_router(exchange.router)
router.include_router(harvest.router)
router.include_router(ledger_router)
router.include_router(access.router)
router.include_router(tokens.router)
