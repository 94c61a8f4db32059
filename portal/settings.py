"""Settings of the portal, and all packages' settings combined (prefix DATALEDGER_)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from auth.settings import AuthSettings
from catalog.exchange.settings import ExchangeSettings
from storage.settings import StorageSettings


class PortalSettings(BaseSettings):
    """The web service, its database and its command line."""

    model_config = SettingsConfigDict(env_prefix="DATALEDGER_", extra="ignore")

    database_url: str = Field(
        "sqlite:///var/dataledger.db",
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user@host:5432/db.",
    )
    var_dir: Path = Field(
        Path("var"), description="Folder for the SQLite file, local objects and work files."
    )
    host: str = Field("127.0.0.1", description="Address `dataledger serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `dataledger serve` listens on.")
    base_url: str = Field("http://127.0.0.1:8000", description="Public URL of the portal, used in exports.")
    max_upload_bytes: int = Field(
        5 * 1024**3, gt=0, description="Largest file accepted for upload, in bytes (larger ones get 413)."
    )
    download_mode: Literal["stream", "redirect"] = Field(
        "stream",
        description="Serve downloads through the portal (stream) or redirect to a presigned S3 URL (redirect).",
    )
    table_cache_bytes: int = Field(
        10 * 1024**3,
        gt=0,
        description="Most disk the local copies of S3 tables (for the data API and previews) may use, "
        "in bytes; the least recently used copies go first.",
    )
    default_language: Literal["zh", "en"] = Field("zh", description="Language of the pages by default.")
    load_demo: bool = Field(
        True, description="`dataledger serve` loads the demo catalog into an empty ledger."
    )
    feedback_answer_days: int = Field(
        10, gt=0, description="Days an agency has to answer a data request, error report or complaint."
    )
    cookie_secure: bool = Field(False, description="Mark the session cookie Secure (set true behind HTTPS).")


class DcatSettings(BaseSettings):
    """The DCAT-AP export."""

    model_config = SettingsConfigDict(env_prefix="DATALEDGER_DCAT_", extra="ignore")

    page_size: int = Field(
        100, ge=1, le=1000, description="Datasets per page of /catalog.ttl (and .rdf, .jsonld)."
    )
    max_page_size: int = Field(
        1000, ge=1, le=10000, description="Largest page a caller may ask for with ?page_size=."
    )


class Settings(BaseModel):
    """Every package's settings, read once from the environment."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    portal: PortalSettings
    storage: StorageSettings
    auth: AuthSettings
    exchange: ExchangeSettings = Field(default_factory=ExchangeSettings)
    dcat: DcatSettings = Field(default_factory=DcatSettings)

    @classmethod
    def from_env(cls, **portal_overrides: object) -> Settings:
        """Read all settings from DATALEDGER_* variables (and .env)."""
        return cls(
            portal=PortalSettings(**portal_overrides),
            storage=StorageSettings(),
            auth=AuthSettings(),
            exchange=ExchangeSettings(),
            dcat=DcatSettings(),
        )


@cache
def get_settings() -> Settings:
    """The process's settings; tests build their own Settings instead."""
    return Settings.from_env()


SETTINGS_CLASSES: tuple[type[BaseSettings], ...] = (
    PortalSettings,
    StorageSettings,
    AuthSettings,
    ExchangeSettings,
    DcatSettings,
)
