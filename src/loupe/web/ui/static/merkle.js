// RFC 9162 inclusion proofs and C2SP signed checkpoints, checked with Web Crypto.
// A port of loupe/ledger/verify.py (verify_inclusion, open_note, Checkpoint.from_text):
// leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right).

const encoder = new TextEncoder();

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function fromHex(hex) {
  if (!/^([0-9a-f]{2})*$/i.test(hex)) throw new Error(`not hex: ${hex}`);
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
}

export function toHex(bytes) {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function fromBase64(text) {
  const raw = atob(text);
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export function hashLeaf(data) {
  return sha256(concat(Uint8Array.of(0), data));
}

export function hashNode(left, right) {
  return sha256(concat(Uint8Array.of(1), left, right));
}

// RFC 9162 §2.1.3.2. Sizes are JS numbers: exact below 2**53 entries.
export async function rootFromInclusionProof(leafHash, index, treeSize, proof) {
  if (!(index >= 0 && index < treeSize)) throw new Error(`index ${index} is not below tree size ${treeSize}`);
  let fn = index;
  let sn = treeSize - 1;
  let r = leafHash;
  for (const p of proof) {
    if (p.length !== 32) throw new Error("a proof hash must be 32 bytes");
    if (sn === 0) throw new Error("inclusion proof has too many hashes");
    if (fn % 2 === 1 || fn === sn) {
      r = await hashNode(p, r);
      while (fn !== 0 && fn % 2 === 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await hashNode(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new Error("inclusion proof has too few hashes");
  return r;
}

export async function verifyInclusion(leafHash, index, treeSize, proof, root) {
  const calculated = await rootFromInclusionProof(leafHash, index, treeSize, proof);
  if (!equal(calculated, root)) {
    throw new Error(`proof leads to root ${toHex(calculated)}, not ${toHex(root)}`);
  }
}

// C2SP tlog-checkpoint body: origin, size, base64 root hash, extension lines.
export function parseCheckpoint(text) {
  const lines = text.replace(/\n$/, "").split("\n");
  if (lines.length < 3 || !/^(0|[1-9][0-9]*)$/.test(lines[1])) throw new Error("malformed checkpoint");
  return { origin: lines[0], size: Number(lines[1]), root: fromBase64(lines[2]) };
}

function parseVerifierKey(vkey) {
  // <name>+<8 hex>+<base64>: base64 may itself hold '+', so split at the first two only.
  const first = vkey.indexOf("+");
  const second = vkey.indexOf("+", first + 1);
  if (first < 0 || second < 0) throw new Error("malformed verifier key");
  const name = vkey.slice(0, first);
  const hashHex = vkey.slice(first + 1, second);
  const keyB64 = vkey.slice(second + 1);
  const key = fromBase64(keyB64);
  if (key[0] !== 1 || key.length !== 33) throw new Error("only Ed25519 verifier keys are supported");
  return { name, keyHash: parseInt(hashHex, 16) >>> 0, publicKey: key.slice(1) };
}

// C2SP signed-note: returns {checkpoint, signature} where signature is "verified",
// or "unsupported" when this browser's Web Crypto has no Ed25519 (then only the
// proofs are checked, against the note's root).
export async function openCheckpoint(note, verifierKeys, origin) {
  const split = note.lastIndexOf("\n\n");
  if (split < 0 || !note.endsWith("\n")) throw new Error("malformed signed note");
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split("\n");
  const checkpoint = parseCheckpoint(text);
  if (origin && checkpoint.origin !== origin) throw new Error(`checkpoint is for log ${checkpoint.origin}`);
  const keys = verifierKeys.map(parseVerifierKey);
  let signature = "none";
  for (const line of lines) {
    if (!line.startsWith("\u2014 ")) throw new Error("malformed signature line");
    const space = line.indexOf(" ", 2);
    const name = line.slice(2, space);
    const b64 = line.slice(space + 1);
    const raw = fromBase64(b64);
    const keyHash = ((raw[0] << 24) | (raw[1] << 16) | (raw[2] << 8) | raw[3]) >>> 0;
    const key = keys.find((k) => k.name === name && k.keyHash === keyHash);
    if (!key) continue;
    let publicKey;
    try {
      publicKey = await crypto.subtle.importKey("raw", key.publicKey, { name: "Ed25519" }, false, ["verify"]);
    } catch {
      signature = "unsupported";
      continue;
    }
    const ok = await crypto.subtle.verify({ name: "Ed25519" }, publicKey, raw.slice(4), encoder.encode(text));
    if (!ok) throw new Error(`invalid signature for key ${name}`);
    return { checkpoint, signature: "verified" };
  }
  if (signature === "unsupported") return { checkpoint, signature };
  throw new Error("the checkpoint carries no signature by a known key");
}

export async function verifyEntry(leafText, index, proofHex, checkpoint) {
  const leafHash = await hashLeaf(encoder.encode(leafText));
  await verifyInclusion(leafHash, index, checkpoint.size, proofHex.map(fromHex), checkpoint.root);
}
