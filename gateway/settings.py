"""Settings: every environment variable the gateway reads, parsed once, in one place."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
MIN_SECRET_LEN = 32


class SettingsError(ValueError):
    """A setting has a value we refuse to start with; the message says which and why."""


def parse_flag(name: str, raw: str | None, default: bool) -> bool:
    """Parse a boolean flag strictly: true|false|1|0|yes|no|on|off (any case); anything else is an error."""
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name} must be one of true|false|1|0|yes|no|on|off, got {raw!r}")


def parse_int(name: str, raw: str | None, default: int, lo: int, hi: int) -> int:
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if not lo <= value <= hi:
        raise SettingsError(f"{name} must be between {lo} and {hi}, got {value}")
    return value


def normalise_database_url(url: str, name: str = "DATABASE_URL") -> str:
    """Accept postgres:// as well as postgresql:// (both are common in hosting dashboards)."""
    if url.startswith("postgres://"):
        return "postgresql://" + url[len("postgres://") :]
    if not url.startswith("postgresql://"):
        raise SettingsError(f"{name} must start with postgres:// or postgresql://")
    return url


@dataclass(frozen=True)
class Settings:
    # DATABASE_URL: the gateway's login (novara_authenticator: docs/roles.md). MIGRATION_DATABASE_URL: the owner's
    # login, for migrations and the operator commands (default: DATABASE_URL). Both unset: the embedded server.
    database_url: str | None
    jwt_secret: str | None
    use_schema_v2: bool
    host: str
    port: int
    # DB_POOL_MAX (default 20): the most connections the gateway opens to PostgreSQL. A request that finds
    # them all busy waits up to gateway/db.py POOL_WAIT_S (3 s) for one, then gets 503 with Retry-After and
    # code DATABASE_UNAVAILABLE (tests/reliability/test_pool.py). `novara serve --workers N` gives each worker
    # DB_POOL_MAX // N (at least one), so the whole gateway stays within it.
    db_pool_max: int
    data_dir: Path  # NOVARA_DATA_DIR (default ./.data): the embedded server and the generated secrets
    db_dir: Path | None  # NOVARA_DB_DIR: other SQL to migrate with (default: the package's own, novara.DB_DIR)
    environment: str
    frontend_url: str | None
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)
    # Accounts (docs/accounts.md). AUTH_REQUIRE_PASSWORD: every signup and login must carry a password
    # (default false: email-only login, the legacy contract — read the README's risk note).
    auth_require_password: bool = False
    # AUTH_SCRYPT_LOG2N: scrypt cost of NEW password hashes, N = 2**value (default 14). Values under 14 are for
    # tests only (they make hashes cheap to crack); existing hashes keep the cost they were made with.
    auth_scrypt_log2n: int = 14
    # AUTH_TRUST_X_FORWARDED_FOR: take the client address that login rate limits count from the last entry of
    # X-Forwarded-For (set it only behind a proxy that appends it); default: the TCP peer's address.
    auth_trust_x_forwarded_for: bool = False
    migration_database_url: str | None = None
    # DATABASE_READ_URL: the standbys the read-only routes (STABLE functions) are served by, e.g. every node with
    # target_session_attrs=prefer-standby; a client's own writes are never missing from its reads (X-Novara-LSN,
    # docs/operations.md "Reads from standbys"). Unset: the primary serves everything.
    database_read_url: str | None = None
    # NOVARA_ALLOW_POWERFUL_LOGIN: serve even when the gateway's login is a superuser, BYPASSRLS, or can become an
    # owner of the schema (default false: `novara serve` refuses, naming the role and the fix; docs/roles.md).
    allow_powerful_login: bool = False
    # NOVARA_AUTHENTICATOR_PASSWORD: `novara migrate` sets it as novara_authenticator's password after migrating (for
    # deployments that script the set-up, e.g. docker-compose); unset: the password is left alone.
    authenticator_password: str | None = None
    # LOG_FORMAT: `text` (default: one human line per request, `GET /api/checkins 200 8.4ms`) or `json` (one JSON
    # object per line: time, level, message; request lines add method, route template, status, ms, request_id).
    log_format: str = "text"
    # METRICS_TOKEN: when set, GET /metrics wants `Authorization: Bearer <METRICS_TOKEN>` (401 without, 403 wrong);
    # unset, /metrics is open like /api/health (it holds no user data: route templates and counts only).
    metrics_token: str | None = None

    @property
    def owner_url(self) -> str | None:
        """The URL migrations and operator commands use: MIGRATION_DATABASE_URL, else DATABASE_URL."""
        return self.migration_database_url or self.database_url

    @property
    def authenticator_password_file(self) -> Path:
        return self.data_dir / "authenticator_password"

    @property
    def secret_file(self) -> Path:
        return self.data_dir / "jwt_secret"

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pg"


LOG_FORMATS = ("text", "json")


def parse_log_format(raw: str | None) -> str:
    value = (raw or "").strip().lower() or "text"
    if value not in LOG_FORMATS:
        raise SettingsError(f"LOG_FORMAT must be one of {'|'.join(LOG_FORMATS)}, got {raw!r}")
    return value


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Read the environment once. Raises SettingsError with a clear message on a bad value."""
    env = os.environ if env is None else env
    url = env.get("DATABASE_URL") or None
    secret = env.get("JWT_SECRET") or None
    if secret is not None and len(secret) < MIN_SECRET_LEN:
        raise SettingsError(f"JWT_SECRET must be at least {MIN_SECRET_LEN} characters long")
    migration_url = env.get("MIGRATION_DATABASE_URL") or None
    read_url = env.get("DATABASE_READ_URL") or None
    if migration_url and not url:
        raise SettingsError("MIGRATION_DATABASE_URL is set but DATABASE_URL is not: set both (docs/roles.md)")
    origins = tuple(o.strip() for o in env.get("ALLOWED_ORIGINS", "").split(",") if o.strip())
    return Settings(
        database_url=normalise_database_url(url) if url else None,
        migration_database_url=normalise_database_url(migration_url) if migration_url else None,
        database_read_url=normalise_database_url(read_url, "DATABASE_READ_URL") if read_url else None,
        authenticator_password=env.get("NOVARA_AUTHENTICATOR_PASSWORD") or None,
        allow_powerful_login=parse_flag("NOVARA_ALLOW_POWERFUL_LOGIN", env.get("NOVARA_ALLOW_POWERFUL_LOGIN"), False),
        jwt_secret=secret,
        use_schema_v2=parse_flag("USE_SCHEMA_V2", env.get("USE_SCHEMA_V2"), True),
        host=env.get("HOST") or "127.0.0.1",
        port=parse_int("PORT", env.get("PORT"), 8000, 0, 65535),
        db_pool_max=parse_int("DB_POOL_MAX", env.get("DB_POOL_MAX"), 20, 1, 1000),
        data_dir=Path(env.get("NOVARA_DATA_DIR") or ".data").expanduser().resolve(),
        db_dir=Path(env["NOVARA_DB_DIR"]).expanduser().resolve() if env.get("NOVARA_DB_DIR") else None,
        environment=env.get("NODE_ENV") or env.get("ENVIRONMENT") or "development",
        frontend_url=env.get("FRONTEND_URL") or None,
        allowed_origins=origins,
        auth_require_password=parse_flag("AUTH_REQUIRE_PASSWORD", env.get("AUTH_REQUIRE_PASSWORD"), False),
        auth_scrypt_log2n=parse_int("AUTH_SCRYPT_LOG2N", env.get("AUTH_SCRYPT_LOG2N"), 14, 10, 20),
        auth_trust_x_forwarded_for=parse_flag(
            "AUTH_TRUST_X_FORWARDED_FOR", env.get("AUTH_TRUST_X_FORWARDED_FOR"), False
        ),
        log_format=parse_log_format(env.get("LOG_FORMAT")),
        metrics_token=env.get("METRICS_TOKEN") or None,
    )


def ensure_jwt_secret(settings: Settings) -> str:
    """The configured JWT secret, or one generated once and kept in the data dir (mode 0600)."""
    return settings.jwt_secret or ensure_secret_file(settings.secret_file)


def ensure_secret_file(path: Path) -> str:
    """The secret kept in `path`, or a new random one written there first (mode 0600)."""
    if path.exists():
        secret = path.read_text().strip()
        if len(secret) >= MIN_SECRET_LEN:
            return secret
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secret + "\n")
    path.chmod(0o600)
    return secret
