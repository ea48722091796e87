"""Every environment variable the companion reads, validated once at start."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_PROMPTS = Path(__file__).resolve().parent.parent / "prompts"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IVR_", env_file=".env", extra="ignore", frozen=True)

    prompts_dir: Path = Field(default=REPO_PROMPTS, description="Folder of the content TOML files")
    content_max_age_days: int = Field(default=365, ge=1, description="`ivr check` warns past this age")
