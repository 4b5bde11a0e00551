"""A small in-process Ethereum-compatible **test chain**, for anchoring tests and benchmarks.

Not a node and not for production: one process, one account state in memory, no
peers, no consensus. It exists because ``eth-tester``/``py-evm`` are not installable
here; it needs ``web3`` and ``pyrevm`` (Python bindings of revm, a real Rust EVM).

What it does honestly:

- takes **signed raw transactions** (legacy EIP-155 or EIP-1559 type 2), recovers the
  sender from the signature (``eth_account``) and refuses, like a node, a wrong chain id,
  a wrong nonce, gas below the intrinsic cost (21,000 + 16 per non-zero and 4 per zero
  calldata byte), a fee cap below the base fee, or a balance that cannot pay
  ``gas * max fee + value``;
- **executes** each call in revm (value transfer, contract code, revert, out of gas);
  revm's ``gas_used`` is the gas charged;
- mines **one block per transaction** (or none, with ``automine=False``, until
  :meth:`RevmChain.mine`), and answers the JSON-RPC methods web3.py needs with the
  hex-encoded shapes a real node sends.

What it simplifies: pyrevm's ``message_call`` neither bumps nonces nor charges fees, so
this class keeps nonces and debits ``gas_used * effective gas price`` itself (the whole
fee is burnt; no tip to a miner); block hashes are ``keccak`` of the block's number,
parent and transactions, not of a real header; no contract creation, logs or state
roots. Example::

    chain = RevmChain(chain_id=1337, balances={address: 10**18})
    w3 = Web3(RevmProvider(chain))
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    w3.eth.get_transaction_receipt(tx_hash)["status"]   # 1
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import rlp  # type: ignore[import-untyped]
from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from pyrevm import EVM, AccountInfo, BlockEnv, CfgEnv, Env
from web3.providers.base import BaseProvider
from web3.types import RPCEndpoint, RPCResponse

__all__ = ["RevmChain", "RevmProvider", "TransactionRejected", "intrinsic_gas"]

GWEI = 10**9
_EMPTY_BLOOM = "0x" + "00" * 256


class TransactionRejected(Exception):
    """A transaction a node would refuse before mining (the JSON-RPC error message)."""


def intrinsic_gas(data: bytes) -> int:
    """The gas a plain call costs before any code runs (no access list, no creation)."""
    zeros = data.count(0)
    return 21_000 + 4 * zeros + 16 * (len(data) - zeros)


def _hex(value: int) -> str:
    return hex(value)


def _data(value: bytes) -> str:
    return "0x" + value.hex()


def _int(item: bytes) -> int:
    return int.from_bytes(item, "big")


@dataclass(frozen=True, slots=True)
class _Tx:
    hash: bytes
    type: int
    chain_id: int
    nonce: int
    sender: str
    to: str
    value: int
    data: bytes
    gas: int
    max_fee: int
    max_priority_fee: int
    v: int
    r: int
    s: int


@dataclass(slots=True)
class _Block:
    number: int
    hash: bytes
    parent_hash: bytes
    timestamp: int
    base_fee: int
    transactions: list[bytes] = field(default_factory=list)
    gas_used: int = 0


@dataclass(frozen=True, slots=True)
class _Mined:
    block: int
    index: int
    status: int
    gas_used: int
    gas_price: int


def _decode(raw: bytes, chain_id: int) -> _Tx:
    """Parse and check the signature of a raw type-0 (EIP-155) or type-2 transaction."""
    try:
        sender = to_checksum_address(Account.recover_transaction(raw))
        if raw[0] == 2:
            fields = rlp.decode(raw[1:])
            if len(fields) != 12:
                raise TransactionRejected("malformed type-2 transaction")
            cid, nonce, tip, cap, gas, to, value, data, _access, y, r, s = fields
            tx_type, tx_chain, v = 2, _int(cid), _int(y)
            max_fee, max_tip = _int(cap), _int(tip)
        elif raw[0] >= 0xC0:
            nonce, price, gas, to, value, data, v_raw, r, s = rlp.decode(raw)
            v = _int(v_raw)
            if v < 35:
                raise TransactionRejected("only replay-protected (EIP-155) transactions")
            tx_type, tx_chain = 0, (v - 35) // 2
            max_fee = max_tip = _int(price)
        else:
            raise TransactionRejected(f"transaction type {raw[0]} is not supported")
    except TransactionRejected:
        raise
    except Exception as exc:
        raise TransactionRejected(f"invalid transaction: {exc}") from None
    if tx_chain != chain_id:
        raise TransactionRejected(f"invalid chain id {tx_chain}; this chain is {chain_id}")
    if len(to) != 20:
        raise TransactionRejected("contract creation is not supported by the test chain")
    return _Tx(
        hash=keccak(raw),
        type=tx_type,
        chain_id=tx_chain,
        nonce=_int(nonce),
        sender=sender,
        to=to_checksum_address(to),
        value=_int(value),
        data=bytes(data),
        gas=_int(gas),
        max_fee=max_fee,
        max_priority_fee=max_tip,
        v=v,
        r=_int(r),
        s=_int(s),
    )


class RevmChain:
    """The chain: accounts in a revm instance, blocks, transactions and receipts.

    ``balances`` funds accounts at genesis (wei); ``base_fee`` is every block's base fee.
    """

    def __init__(
        self,
        *,
        chain_id: int = 1337,
        balances: Mapping[str, int] = {},
        base_fee: int = GWEI,
        automine: bool = True,
        genesis_time: int = 1_767_225_600,
    ) -> None:
        self.chain_id = chain_id
        self.base_fee = base_fee
        self.automine = automine
        self._evm = EVM(env=Env(cfg=CfgEnv(chain_id=chain_id)))
        self._nonces: dict[str, int] = {}
        self._txs: dict[bytes, _Tx] = {}
        self._mined: dict[bytes, _Mined] = {}
        self._pending: list[_Tx] = []
        self._clock = itertools.count(genesis_time, 12)
        self.blocks: list[_Block] = []
        self._new_block()
        for address, wei in balances.items():
            self._evm.set_balance(to_checksum_address(address), wei)

    # -- state ------------------------------------------------------------------------

    def balance(self, address: str) -> int:
        return self._evm.get_balance(to_checksum_address(address))

    def nonce(self, address: str, *, pending: bool = False) -> int:
        address = to_checksum_address(address)
        queued = sum(1 for tx in self._pending if tx.sender == address) if pending else 0
        return self._nonces.get(address, 0) + queued

    def set_code(self, address: str, code: bytes) -> None:
        """Put contract ``code`` at ``address`` (there is no contract creation)."""
        self._evm.insert_account_info(to_checksum_address(address), AccountInfo(code=code))

    @property
    def head(self) -> int:
        return self.blocks[-1].number

    # -- transactions -----------------------------------------------------------------

    def send_raw_transaction(self, raw: bytes) -> bytes:
        """Check ``raw`` as a node would, queue it, and mine it unless ``automine`` is off."""
        tx = _decode(raw, self.chain_id)
        if tx.hash in self._txs:
            return tx.hash
        expected = self.nonce(tx.sender, pending=True)
        if tx.nonce != expected:
            raise TransactionRejected(f"nonce {tx.nonce} is not the next one ({expected})")
        if tx.gas < intrinsic_gas(tx.data):
            raise TransactionRejected(f"intrinsic gas too low: {tx.gas} < {intrinsic_gas(tx.data)}")
        if tx.max_fee < self.base_fee:
            raise TransactionRejected(f"max fee {tx.max_fee} below base fee {self.base_fee}")
        if self.balance(tx.sender) < tx.gas * tx.max_fee + tx.value:
            raise TransactionRejected("insufficient funds for gas * price + value")
        self._txs[tx.hash] = tx
        self._pending.append(tx)
        if self.automine:
            self.mine()
        return tx.hash

    def mine(self, blocks: int = 1) -> None:
        """Mine the queued transactions, one block each, then empty blocks up to ``blocks``."""
        made = 0
        while self._pending:
            self._mine_one(self._pending.pop(0))
            made += 1
        for _ in range(max(0, blocks - made)):
            self._new_block()

    def _mine_one(self, tx: _Tx) -> None:
        price = min(tx.max_fee, self.base_fee + tx.max_priority_fee)
        try:
            self._evm.message_call(
                tx.sender, tx.to, calldata=tx.data, value=tx.value, gas=tx.gas, gas_price=0
            )
            status, gas_used = 1, cast(Any, self._evm.result).gas_used
        except RuntimeError as exc:  # pyrevm raises on revert and halts (out of gas, ...)
            result = self._evm.result
            if result is None or result.is_success:
                raise
            status, gas_used = 0, result.gas_used
            if "Revert" not in str(exc) and "Halt" not in str(exc):
                raise
        self._evm.set_balance(tx.sender, self.balance(tx.sender) - gas_used * price)
        self._nonces[tx.sender] = tx.nonce + 1
        block = self._new_block()
        block.transactions.append(tx.hash)
        block.gas_used = gas_used
        block.hash = keccak(block.number.to_bytes(8, "big") + block.parent_hash + tx.hash)
        self._mined[tx.hash] = _Mined(
            block=block.number, index=0, status=status, gas_used=gas_used, gas_price=price
        )

    def _new_block(self) -> _Block:
        parent = self.blocks[-1].hash if self.blocks else b"\0" * 32
        number = len(self.blocks)
        block = _Block(
            number=number,
            hash=keccak(number.to_bytes(8, "big") + parent),
            parent_hash=parent,
            timestamp=next(self._clock),
            base_fee=self.base_fee,
        )
        self.blocks.append(block)
        self._evm.set_block_env(
            BlockEnv(number=number, timestamp=block.timestamp, basefee=self.base_fee)
        )
        return block

    # -- JSON-RPC shapes ----------------------------------------------------------------

    def _block_number(self, tag: Any) -> int | None:
        if tag in ("latest", "pending", "safe", "finalized"):
            return self.head
        if tag == "earliest":
            return 0
        number = int(tag, 16)
        return number if number <= self.head else None

    def block_json(self, tag: Any) -> dict[str, Any] | None:
        number = self._block_number(tag)
        if number is None:
            return None
        block = self.blocks[number]
        return {
            "number": _hex(block.number),
            "hash": _data(block.hash),
            "parentHash": _data(block.parent_hash),
            "timestamp": _hex(block.timestamp),
            "baseFeePerGas": _hex(block.base_fee),
            "gasLimit": _hex(30_000_000),
            "gasUsed": _hex(block.gas_used),
            "transactions": [_data(h) for h in block.transactions],
            "miner": "0x" + "00" * 20,
            "difficulty": "0x0",
            "extraData": "0x",
            "logsBloom": _EMPTY_BLOOM,
            "nonce": "0x0000000000000000",
            "uncles": [],
        }

    def transaction_json(self, tx_hash: bytes) -> dict[str, Any] | None:
        tx = self._txs.get(tx_hash)
        if tx is None:
            return None
        mined = self._mined.get(tx_hash)
        price = mined.gas_price if mined else tx.max_fee
        found: dict[str, Any] = {
            "hash": _data(tx.hash),
            "type": _hex(tx.type),
            "chainId": _hex(tx.chain_id),
            "nonce": _hex(tx.nonce),
            "from": tx.sender,
            "to": tx.to,
            "value": _hex(tx.value),
            "input": _data(tx.data),
            "gas": _hex(tx.gas),
            "gasPrice": _hex(price),
            "v": _hex(tx.v),
            "r": _hex(tx.r),
            "s": _hex(tx.s),
            "blockNumber": _hex(mined.block) if mined else None,
            "blockHash": _data(self.blocks[mined.block].hash) if mined else None,
            "transactionIndex": _hex(mined.index) if mined else None,
        }
        if tx.type == 2:
            found |= {
                "maxFeePerGas": _hex(tx.max_fee),
                "maxPriorityFeePerGas": _hex(tx.max_priority_fee),
                "accessList": [],
                "yParity": _hex(tx.v),
            }
        return found

    def receipt_json(self, tx_hash: bytes) -> dict[str, Any] | None:
        tx, mined = self._txs.get(tx_hash), self._mined.get(tx_hash)
        if tx is None or mined is None:
            return None
        return {
            "transactionHash": _data(tx.hash),
            "transactionIndex": _hex(mined.index),
            "blockHash": _data(self.blocks[mined.block].hash),
            "blockNumber": _hex(mined.block),
            "from": tx.sender,
            "to": tx.to,
            "cumulativeGasUsed": _hex(mined.gas_used),
            "gasUsed": _hex(mined.gas_used),
            "effectiveGasPrice": _hex(mined.gas_price),
            "contractAddress": None,
            "logs": [],
            "logsBloom": _EMPTY_BLOOM,
            "status": _hex(mined.status),
            "type": _hex(tx.type),
        }


class RevmProvider(BaseProvider):
    """A web3.py provider answering JSON-RPC requests from a :class:`RevmChain`."""

    def __init__(self, chain: RevmChain) -> None:
        super().__init__()
        self.chain = chain
        self.requests: list[str] = []
        self._ids = itertools.count(1)

    def is_connected(self, show_traceback: bool = False) -> bool:
        return True

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        self.requests.append(str(method))
        response: dict[str, Any] = {"jsonrpc": "2.0", "id": next(self._ids)}
        try:
            response["result"] = self._answer(str(method), list(params or []))
        except TransactionRejected as exc:
            response["error"] = {"code": -32000, "message": str(exc)}
        except KeyError:
            response["error"] = {"code": -32601, "message": f"method {method} not found"}
        return cast(RPCResponse, response)

    def _answer(self, method: str, params: list[Any]) -> Any:
        chain = self.chain
        if method == "eth_chainId":
            return _hex(chain.chain_id)
        if method == "net_version":
            return str(chain.chain_id)
        if method == "eth_blockNumber":
            return _hex(chain.head)
        if method == "eth_getBalance":
            return _hex(chain.balance(params[0]))
        if method == "eth_getTransactionCount":
            return _hex(chain.nonce(params[0], pending=params[1:2] == ["pending"]))
        if method == "eth_gasPrice":
            return _hex(chain.base_fee + GWEI)
        if method == "eth_maxPriorityFeePerGas":
            return _hex(GWEI)
        if method == "eth_getBlockByNumber":
            return chain.block_json(params[0])
        if method == "eth_sendRawTransaction":
            return _data(chain.send_raw_transaction(bytes.fromhex(params[0][2:])))
        if method == "eth_getTransactionByHash":
            return chain.transaction_json(bytes.fromhex(params[0][2:]))
        if method == "eth_getTransactionReceipt":
            return chain.receipt_json(bytes.fromhex(params[0][2:]))
        raise KeyError(method)
