"""Settings of the data exchange (prefix DATALEDGER_EXCHANGE_); portal/settings.py combines them."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ExchangeSettings(BaseSettings):
    """Commissions, the sandbox threshold and the contract template version."""

    model_config = SettingsConfigDict(env_prefix="DATALEDGER_EXCHANGE_", extra="ignore")

    commission_bp: int = Field(
        300, ge=0, le=10_000, description="Exchange commission in basis points of the price (300 = 3%)."
    )
    broker_commission_bp: int = Field(
        500,
        ge=0,
        le=10_000,
        description="Broker's commission in basis points, when a broker or data merchant sells for the holder.",
    )
    sandbox_min_group_size: int = Field(
        10, ge=2, description="Sandbox queries release only groups of at least this many rows (k)."
    )
    sandbox_max_groups: int = Field(1000, gt=0, description="Most groups one sandbox query returns.")
