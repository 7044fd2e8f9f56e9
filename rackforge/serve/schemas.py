"""Request bodies of the API (pydantic), apart from the database models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewProject(Body):
    name: str = Field(min_length=1, max_length=200)


class NewMember(Body):
    org: str = Field(min_length=1, max_length=100)
    role: str = Field(pattern="^(viewer|editor|owner)$")


class NewVersion(Body):
    scenario_yaml: str = Field(max_length=5_000_000)
    files: dict[str, str] = Field(default_factory=dict, description="file name -> text, for "
                                  "the files the scenario names (a supplier table); files of "
                                  "the parent not given here carry over")
    parent: int | None = Field(default=None, description="id of the latest version; null for "
                               "the first")
    message: str = Field(default="", max_length=2000)
