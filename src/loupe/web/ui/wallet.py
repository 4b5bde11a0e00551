"""``GET /wallet``: a contributor's payment entries, balance and in-browser proof checks.

The page lists the entries with their canonical bytes and inclusion proofs, and the
signed checkpoint they are proven against; ``static/wallet.js`` then checks, in the
browser with Web Crypto, the checkpoint's Ed25519 signature and each entry's proof
(RFC 9162), so the contributor need not trust the server's word.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from loupe.services import ledger
from loupe.services.ledger_keys import optional_ledger_config
from loupe.web.api.ledger import checkpoint_out, entry_out
from loupe.web.deps import Reader
from loupe.web.ui.render import page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/wallet", response_class=HTMLResponse)
def wallet_page(
    request: Request,
    ctx: Reader,
    after: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> HTMLResponse:
    current = ctx.browser_session
    config = optional_ledger_config(ctx.settings)
    secret = config.keys.secret if config else None
    wallet = ledger.wallet(ctx.session, current.actor, secret=secret, after=after, limit=100)
    entries = [entry_out(item) for item in wallet.entries]
    checkpoint = checkpoint_out(wallet.checkpoint, ctx.settings) if wallet.checkpoint else None
    return page(
        request,
        "wallet.html",
        current,
        title="Wallet",
        nav_current="wallet",
        entries=entries,
        balances=wallet.balances,
        checkpoint=checkpoint,
        checkpoint_json=json.dumps(
            {
                "note": checkpoint.note if checkpoint else None,
                "verifier_keys": checkpoint.verifier_keys if checkpoint else [],
                "origin": config.keys.origin if config else None,
            }
        ),
        next_after=wallet.next_after,
    )
