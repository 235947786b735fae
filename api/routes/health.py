from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from api.deps import SessionDep, TemporalDep

router = APIRouter(tags=["health"])


class HealthResponse(BaseModel):
    status: str
    database: str
    temporal: str


@router.get("/health", response_model=HealthResponse, responses={503: {"model": HealthResponse}})
async def health(session: SessionDep, temporal: TemporalDep) -> HealthResponse | JSONResponse:
    database = temporal_state = "ok"
    try:
        await session.execute(text("SELECT 1"))
    except Exception:
        database = "unavailable"
    try:
        await temporal.service_client.check_health()
    except Exception:
        temporal_state = "unavailable"
    body = HealthResponse(
        status="ok" if database == temporal_state == "ok" else "degraded",
        database=database,
        temporal=temporal_state,
    )
    if body.status != "ok":
        return JSONResponse(body.model_dump(), status_code=503)
    return body
