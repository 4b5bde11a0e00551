"""``GET /wallet``: a contributor's payment entries, balance and in-browser proof checks.

The page lists the entries with their canonical bytes and inclusion proofs, and the
signed checkpoint they are proven against; ``static/wallet.js`` then checks, in the
browser with Web Crypto, the checkpoint's Ed25519 signature with keys the browser pinned
on first visit (or the contributor imported from a file), a quorum of witness
cosignatures when the contributor chose witnesses, consistency (RFC 9162) with the last
checkpoint that browser verified, and each entry's inclusion proof, so the contributor
need not trust the server's word. The keys the server presents here are only candidates
for the first pin.

With witnesses configured, the checkpoint is the newest the witnesses cosigned, and the
entries after it are shown as pending. When verifying, the script asks
``GET /api/v1/wallet`` again with the contributor's quorum and the size of the checkpoint
it verified last (``since``), so it is never served an older one and gets the
consistency proof from it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from loupe.services.payments import ledger
from loupe.services.payments.ledger_keys import optional_ledger_config
from loupe.web.api.ledger import checkpoint_out, configured_witnesses, entry_out
from loupe.web.deps import Reader
from loupe.web.ui.render import page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PAGE = 100  # entries a page


@router.get("/wallet", response_class=HTMLResponse)
def wallet_page(
    request: Request,
    ctx: Reader,
    after: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> HTMLResponse:
    current = ctx.browser_session
    config = optional_ledger_config(ctx.settings)
    secret = config.keys.secret if config else None
    # A misconfigured witnesses file must not take the wallet down: then none are pinned
    # on first visit, and the contributor can still import the keys they chose.
    witnesses = configured_witnesses(ctx.settings)
    wallet = ledger.wallet(
        ctx.session,
        current.actor,
        secret=secret,
        after=after,
        limit=PAGE,
        witnesses=witnesses,
    )
    entries = [entry_out(item) for item in wallet.entries]
    checkpoint = checkpoint_out(wallet.checkpoint, ctx.settings) if wallet.checkpoint else None
    witness_keys = [w.to_key() for w in witnesses]
    return page(
        request,
        "wallet.html",
        current,
        title="Wallet",
        nav_current="wallet",
        entries=entries,
        balances=wallet.balances,
        checkpoint=checkpoint,
        # Rendered with tojson, which escapes <, > and &: json.dumps put "</script>" (an
        # origin may hold one) straight into the page, closing the data block early.
        checkpoint_data={
            "note": checkpoint.note if checkpoint else None,
            "verifier_keys": checkpoint.verifier_keys if checkpoint else [],
            "origin": config.keys.origin if config else None,
            "witness_keys": witness_keys,
            "after": after,
            "limit": PAGE,
        },
        witness_keys=witness_keys,
        next_after=wallet.next_after,
    )
