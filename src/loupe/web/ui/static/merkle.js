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

// Signed-note algorithm bytes: 0x01 a log's Ed25519 key, 0x04 a witness's cosignature/v1 key.
export const LOG_KEY = 1;
export const WITNESS_KEY = 4;

// <name>+<8 hex>+<base64(alg || key)>: base64 may itself hold '+', so split at the first
// two only. Returns {name, keyHash, alg, publicKey}; the key hash is checked
// (SHA-256(name || "\n" || alg || key)[:4]), so a key cannot be passed off under another name.
export async function parseKey(vkey) {
  const first = vkey.indexOf("+");
  const second = vkey.indexOf("+", first + 1);
  if (first <= 0 || second < 0) throw new Error(`malformed key: ${vkey.slice(0, 40)}`);
  const name = vkey.slice(0, first);
  const hashHex = vkey.slice(first + 1, second);
  if (!/^[0-9a-f]{8}$/i.test(hashHex)) throw new Error(`malformed key hash in ${name}`);
  let key;
  try {
    key = fromBase64(vkey.slice(second + 1));
  } catch {
    throw new Error(`malformed base64 in key ${name}`);
  }
  if (key.length !== 33 || (key[0] !== LOG_KEY && key[0] !== WITNESS_KEY)) {
    throw new Error(`key ${name} is neither an Ed25519 log key nor a cosignature/v1 witness key`);
  }
  const digest = await sha256(concat(encoder.encode(`${name}\n`), key));
  const keyHash = ((digest[0] << 24) | (digest[1] << 16) | (digest[2] << 8) | digest[3]) >>> 0;
  if (keyHash !== parseInt(hashHex, 16) >>> 0) throw new Error(`key hash of ${name} does not match its key`);
  return { name, keyHash, alg: key[0], publicKey: key.slice(1) };
}

function parseVerifierKey(vkey) {
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

function signatureLine(line) {
  if (!line.startsWith("\u2014 ")) throw new Error("malformed signature line");
  const space = line.indexOf(" ", 2);
  const raw = fromBase64(line.slice(space + 1));
  if (raw.length < 4) throw new Error("malformed signature line");
  const keyHash = ((raw[0] << 24) | (raw[1] << 16) | (raw[2] << 8) | raw[3]) >>> 0;
  return { name: line.slice(2, space), keyHash, payload: raw.slice(4) };
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
    const { name, keyHash, payload } = signatureLine(line);
    const key = keys.find((k) => k.name === name && k.keyHash === keyHash);
    if (!key) continue;
    let publicKey;
    try {
      publicKey = await crypto.subtle.importKey("raw", key.publicKey, { name: "Ed25519" }, false, ["verify"]);
    } catch {
      signature = "unsupported";
      continue;
    }
    const ok = await crypto.subtle.verify({ name: "Ed25519" }, publicKey, payload, encoder.encode(text));
    if (!ok) throw new Error(`invalid signature for key ${name}`);
    return { checkpoint, signature: "verified", text, lines };
  }
  if (signature === "unsupported") return { checkpoint, signature, text, lines };
  throw new Error("the checkpoint carries no signature by a key you trust");
}

// C2SP tlog-cosignature (cosignature/v1): count the distinct witnesses among
// `witnessKeys` whose cosignature of the checkpoint body `text` verifies; throws unless
// at least `quorum` do. Lines by other keys are ignored; an invalid one is not counted.
// The signed message names no witness, so a line can be relabelled under any name its
// key is listed with: each public key counts once, whatever names it has.
export async function verifyCosignatures(text, lines, witnessKeys, quorum) {
  const keys = [];
  for (const vkey of witnessKeys) keys.push(await parseKey(vkey));
  const distinct = new Set(keys.filter((k) => k.alg === WITNESS_KEY).map((k) => toHex(k.publicKey))).size;
  const counted = new Set();
  const cosigners = [];
  const invalid = [];
  for (const line of lines) {
    const { name, keyHash, payload } = signatureLine(line);
    const key = keys.find((k) => k.alg === WITNESS_KEY && k.name === name && k.keyHash === keyHash);
    if (!key || counted.has(toHex(key.publicKey))) continue;
    if (payload.length !== 8 + 64) {
      invalid.push(name);
      continue;
    }
    let timestamp = 0n;
    for (const byte of payload.slice(0, 8)) timestamp = (timestamp << 8n) | BigInt(byte);
    let publicKey;
    try {
      publicKey = await crypto.subtle.importKey("raw", key.publicKey, { name: "Ed25519" }, false, ["verify"]);
    } catch {
      throw new Error("this browser lacks Ed25519, so witness cosignatures cannot be checked");
    }
    const message = encoder.encode(`cosignature/v1\ntime ${timestamp}\n${text}`);
    if (await crypto.subtle.verify({ name: "Ed25519" }, publicKey, payload.slice(8), message)) {
      counted.add(toHex(key.publicKey));
      cosigners.push(name);
    } else {
      invalid.push(name);
    }
  }
  if (cosigners.length < quorum) {
    const bad = invalid.length ? `; invalid cosignature(s) by ${invalid.join(", ")}` : "";
    throw new Error(
      `only ${cosigners.length} of your ${distinct} witnesses cosigned this checkpoint ` +
        `(${cosigners.join(", ") || "none"}) but you require ${quorum}${bad}`,
    );
  }
  return cosigners;
}

function isPowerOfTwo(n) {
  while (n > 1 && n % 2 === 0) n /= 2;
  return n === 1;
}

// RFC 9162 §2.1.4.2: the tree of size1 leaves (root1) is a prefix of the tree of size2
// leaves (root2). root1 must be the one the caller remembers, never the server's.
export async function verifyConsistency(size1, size2, proof, root1, root2) {
  if (size1 === size2) {
    if (proof.length !== 0) throw new Error("equal sizes need an empty consistency proof");
    if (!equal(root1, root2)) throw new Error("same size, different roots");
    return;
  }
  if (!(size1 > 0 && size1 < size2)) throw new Error(`cannot prove ${size1} is a prefix of ${size2}`);
  const path = [...proof];
  for (const p of path) if (p.length !== 32) throw new Error("a proof hash must be 32 bytes");
  if (isPowerOfTwo(size1)) path.unshift(root1);
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (path.length === 0) throw new Error("empty consistency proof");
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) throw new Error("consistency proof has too many hashes");
    if (fn % 2 === 1 || fn === sn) {
      fr = await hashNode(c, fr);
      sr = await hashNode(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = await hashNode(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new Error("consistency proof has too few hashes");
  if (!equal(fr, root1)) throw new Error(`the log of ${size1} entries you verified before is not a prefix of this one`);
  if (!equal(sr, root2)) throw new Error("consistency proof does not lead to the checkpoint's root");
}

export async function verifyEntry(leafText, index, proofHex, checkpoint) {
  const leafHash = await hashLeaf(encoder.encode(leafText));
  await verifyInclusion(leafHash, index, checkpoint.size, proofHex.map(fromHex), checkpoint.root);
}
