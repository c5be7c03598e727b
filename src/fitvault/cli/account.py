"""`fitvault auth` and `fitvault sync`: signing in and downloading."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from fitvault._errors import ConfigError, PartialSync
from fitvault.cli._app import (
    SIGN_IN_TIMEOUT,
    SourceOpt,
    TypesOpt,
    VaultOpt,
    _note,
    _types,
    _when_interrupted,
    app,
    err,
    out,
)
from fitvault.cli._bars import (
    LegacyBars,
    SyncBars,
    _lean_arrow,
    _plan_table,
    _print_legacy_report,
    _print_report,
)
from fitvault.sync import QUOTA_PER_MINUTE, quota_seconds, without_pandas
from fitvault.vault import Vault


def _scope_name(scope: str) -> str:
    return scope.rsplit(".", 2)[-2]


@app.command()
def auth(
    server: Annotated[
        str | None,
        typer.Option(help="Any server speaking the API, e.g. a `fitvault simulate` URL."),
    ] = None,
    client_secrets: Annotated[
        Path | None,
        typer.Option(
            help="Google Cloud 'Desktop app' OAuth client JSON.", exists=True, dir_okay=False
        ),
    ] = None,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the sign-in URL instead of opening it.")
    ] = False,
    redirect_port: Annotated[
        int,
        typer.Option(
            min=0,
            max=65535,
            help="Loopback port for the sign-in redirect (0 = any free); fix it to forward it "
            "over SSH with `ssh -L N:127.0.0.1:N host`.",
        ),
    ] = 0,
    types: TypesOpt = None,
    source: SourceOpt = "google-health",
    client_id: Annotated[
        str | None,
        typer.Option(envvar="FITBIT_CLIENT_ID", help="fitbit-legacy: your app's client id."),
    ] = None,
    client_secret: Annotated[
        str | None,
        typer.Option(
            envvar="FITBIT_CLIENT_SECRET",
            help="fitbit-legacy: your app's client secret.",
            show_default=False,
        ),
    ] = None,
    vault: VaultOpt = None,
) -> None:
    """Sign in with OAuth 2.0 (+PKCE) on a loopback redirect; tokens stay in the vault (0600)."""
    from fitvault import auth as oauth
    from fitvault import catalog
    from fitvault.vault import check_source, parse_types, run

    v = Vault(vault)
    if check_source(source) == "fitbit-legacy":
        _auth_legacy(v, server, client_id, client_secret, no_browser, redirect_port)
        return
    requested = catalog.scopes_for(parse_types(_types(types)))
    account = oauth.account_for(requested, server=server, client_secrets=client_secrets)
    oauth.check_writable(v.directory)  # before anyone is sent to a consent page

    with _when_interrupted("sign-in cancelled; nothing was saved"):
        token = run(
            oauth.authorize(
                account,
                v.directory,
                open_url=None if no_browser else _open_browser,
                show_url=_show_sign_in,
                timeout=SIGN_IN_TIMEOUT,
                redirect_port=redirect_port,
            )
        )
    granted = set(str(token.get("scope", "")).split())
    out.print(
        Text.assemble(
            ("Signed in.", "green"),
            " Granted: ",
            ", ".join(_scope_name(s) for s in sorted(granted)),
        )
    )
    for scope in sorted(set(requested) - granted):
        _note(f"not granted: {_scope_name(scope)} (re-run fitvault auth to grant)")
    out.print(f"Tokens saved in {v.directory} (mode 0600). Next: fitvault sync", highlight=False)


def _show_sign_in(url: str) -> None:
    from fitvault.auth import describe_wait

    wait = describe_wait(SIGN_IN_TIMEOUT)
    _note(f"Open this URL to sign in (waiting up to {wait} for the sign-in):", style="")
    err.print(url, highlight=False)  # whole on one line, so a script can read it


def _auth_legacy(
    v: Vault,
    server: str | None,
    client_id: str | None,
    client_secret: str | None,
    no_browser: bool,
    redirect_port: int,
) -> None:
    with _when_interrupted("sign-in cancelled; nothing was saved"):
        granted = v.authorize(
            source="fitbit-legacy",
            server=server,
            client_id=client_id,
            client_secret=client_secret,
            open_url=None if no_browser else _open_browser,
            show_url=_show_sign_in,
            timeout=SIGN_IN_TIMEOUT,
            redirect_port=redirect_port,
        )["scopes"]
    out.print(
        Text.assemble(
            ("Signed in to the legacy Fitbit API.", "green"),
            " Granted: ",
            ", ".join(sorted(granted)),
        )
    )
    out.print(
        f"Tokens saved in {v.directory} (mode 0600). Next: fitvault sync --source fitbit-legacy",
        highlight=False,
    )


def _open_browser(url: str) -> None:
    import webbrowser

    webbrowser.open(url, new=1)


@app.command()
def sync(
    since: Annotated[
        str | None,
        typer.Option(help="First local date (YYYY-MM-DD); default: when the account started."),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Last local date (YYYY-MM-DD); default: now.")
    ] = None,
    types: TypesOpt = None,
    concurrency: Annotated[
        int,
        typer.Option(min=1, help="Windows walked at once (1 = strictly the fewest requests)."),
    ] = 4,
    plan: Annotated[
        bool,
        typer.Option(
            "--plan", help="Show per type what a sync would fetch and how long the quota takes."
        ),
    ] = False,
    source: SourceOpt = "google-health",
    server: Annotated[
        str | None,
        typer.Option(help="fitbit-legacy: a server mirroring the API (default: the sign-in's)."),
    ] = None,
    vault: VaultOpt = None,
) -> None:
    """Download what the vault is missing; safe to interrupt and re-run."""
    from fitvault.vault import check_source

    _lean_arrow()
    v = Vault(vault)
    if check_source(source) == "fitbit-legacy":
        if plan:
            raise ConfigError("--plan is for --source google-health only")
        _sync_legacy(v, since, until, _types(types), server)
        return
    if server:
        raise ConfigError("--server is for --source fitbit-legacy; `fitvault auth` keeps the URL")
    if plan:
        plans = v.plan(since, until, _types(types), concurrency=concurrency)
        out.print(_plan_table(plans))
        total = sum(p.requests for p in plans)
        minutes = quota_seconds(total) / 60
        out.print(
            f"≈ {total:,} requests; the API's {QUOTA_PER_MINUTE}/minute quota alone takes "
            f"≈ {minutes:.1f} min. List walks are estimated from typical density; roll-ups "
            "are exact.",
            highlight=False,
        )
        return
    with SyncBars(err) as bars, without_pandas():
        report = v.sync(since, until, _types(types), progress=bars, concurrency=concurrency)
    _print_report(report)
    if report.partial:
        raise PartialSync(
            f"{len(report.refused)} of the requested types were refused by the API (listed "
            "above); everything else is saved. Fix what the reasons say and run "
            "`fitvault sync` again."
        )


def _sync_legacy(
    v: Vault, since: str | None, until: str | None, names: list[str] | None, server: str | None
) -> None:
    with LegacyBars(err) as bars:
        report = v.sync(since, until, names, progress=bars, source="fitbit-legacy", server=server)
    _print_legacy_report(report)
    for line in getattr(report, "notes", []):
        _note(line)
    if report.partial:
        raise PartialSync(
            f"{len(report.refused)} of the legacy series were refused by the API (listed "
            "above); everything else is saved. Fix what the reasons say and run "
            "`fitvault sync --source fitbit-legacy` again."
        )
