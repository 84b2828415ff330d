"""The optional ideal-customer profile (ICP): who we sell to, read by the extraction prompt's 'fit'
question and by the fit rules, open questions and decline drafts.

See ``fixtures/icp/example-icp.yaml`` for a documented example.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from analyzer._errors import ConfigError
from analyzer.rules._policy import read_yaml

PROMPT_WORD_LIMIT = 80


def _join(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


class CompanySize(BaseModel):
    """A head-count range; either bound may be omitted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_employees: int | None = Field(default=None, ge=1, description="Smallest company we serve well.")
    max_employees: int | None = Field(default=None, ge=1, description="Largest company we serve well.")

    @model_validator(mode="after")
    def _ordered(self) -> CompanySize:
        if (
            self.min_employees is not None
            and self.max_employees is not None
            and self.min_employees > self.max_employees
        ):
            raise ValueError("min_employees is larger than max_employees")
        return self

    def text(self) -> str:
        """'50-2000 employees', '50+ employees', 'up to 200 employees' or ''."""
        lo, hi = self.min_employees, self.max_employees
        if lo is not None and hi is not None:
            return f"{lo}-{hi} employees"
        if lo is not None:
            return f"{lo}+ employees"
        if hi is not None:
            return f"up to {hi} employees"
        return ""


class ICP(BaseModel):
    """Who we sell to. Every field is optional; an empty profile changes nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="", description="A label for this profile, e.g. 'mid-market logistics'.")
    product: str = Field(default="", description="What we sell, in a few words, e.g. 'cloud route planning'.")
    industries: list[str] = Field(default_factory=list, description="Industries we serve well.")
    company_size: CompanySize | None = Field(default=None, description="Head-count range we serve well.")
    regions: list[str] = Field(default_factory=list, description="Regions we sell to and support.")
    must_haves: list[str] = Field(
        default_factory=list,
        description="Requirements a customer must meet, phrased as facts, e.g. 'uses a cloud CRM'.",
    )
    min_deal_size: float | None = Field(default=None, gt=0, description="Smallest deal worth pursuing.")
    currency: str = Field(default="USD", min_length=1, description="Currency of min_deal_size.")

    def deal_size_text(self) -> str:
        """'USD 20,000' or '' when no minimum is set."""
        if self.min_deal_size is None:
            return ""
        amount = (
            f"{self.min_deal_size:,.0f}"
            if self.min_deal_size == int(self.min_deal_size)
            else (f"{self.min_deal_size:,.2f}")
        )
        return f"{self.currency} {amount}"

    def focus_text(self) -> str:
        """Who we focus on, as a phrase for messages: 'logistics and retail companies of 50-2000
        employees in the EU', or '' for an empty profile."""
        parts: list[str] = []
        who = _join(self.industries[:3]) + " companies" if self.industries else "companies"
        size = self.company_size.text() if self.company_size else ""
        if self.industries or size or self.regions:
            parts.append(who)
            if size:
                parts.append(f"of {size}")
            if self.regions:
                parts.append("in " + _join(self.regions[:3]))
        return " ".join(parts)

    def prompt_text(self) -> str:
        """A compact description (at most 80 words) of the ideal customer, for the extraction prompt's
        'fit' question. Fields are written in priority order and the text is cut at a word boundary."""
        sentences: list[str] = []
        if self.product:
            sentences.append(f"We sell {self.product}.")
        focus = self.focus_text()
        if focus:
            sentences.append(f"Ideal customer: {focus}.")
        if self.must_haves:
            sentences.append("Must have: " + "; ".join(self.must_haves) + ".")
        if self.min_deal_size is not None:
            sentences.append(f"Minimum deal: {self.deal_size_text()}.")
        words = " ".join(sentences).split()
        if len(words) > PROMPT_WORD_LIMIT:
            words = [*words[: PROMPT_WORD_LIMIT - 1], "..."]
        return " ".join(words)


def load_icp(path: str | Path) -> ICP:
    """Load and validate an ICP YAML file; a typo or a bad value is one ConfigError sentence."""
    p = Path(path)
    data = read_yaml(p, "ICP")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: an ICP must be a YAML mapping (industries, company_size, regions, ...)")
    try:
        return ICP.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err.get("loc", ())) or "(profile)"
        msg = "unknown field (a typo?)" if err.get("type") == "extra_forbidden" else err.get("msg", "bad value")
        raise ConfigError(f"{p}: invalid ICP, field '{field}': {msg}") from None
