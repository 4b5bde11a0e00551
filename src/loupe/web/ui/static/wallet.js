// "Verify my entries": check the signed checkpoint against keys this browser pinned (or the
// contributor imported), the witnesses' cosignatures, consistency with the last checkpoint
// this browser verified, then each entry's inclusion proof.
//
// Trust lives in localStorage (TRUST_KEY), never on the server:
//   {log_keys, witness_keys, quorum, source, last: {size, root} | null}
// The first visit pins the keys the server presents (trust on first use); afterwards a
// server presenting other keys gets a loud warning and its checkpoints verify only with
// the pinned ones. A keys file obtained elsewhere (your union, employer or auditor)
// replaces the pins: log and witness verifier keys a line, `quorum <k>`, `#` comments.
//
// "Verify" asks /api/v1/wallet afresh with this browser's quorum and the size it verified
// last (`since`): the server then proves the entries against the newest checkpoint that
// many witnesses cosigned, never one older than `since`, with the consistency proof from
// it. Entries newer than that checkpoint come back pending (no proof yet), and are shown
// as pending, not failed: they verify on a later visit, once the witnesses cosigned.
import { call } from "./api.js";
import {
  LOG_KEY,
  fromHex,
  openCheckpoint,
  parseKey,
  toHex,
  verifyConsistency,
  verifyCosignatures,
  verifyEntry,
} from "./merkle.js";

export const TRUST_KEY = "loupe.wallet.trust";

const data = JSON.parse(document.getElementById("checkpoint-data").textContent);
const button = document.getElementById("verify");
const status = document.getElementById("checkpoint-status");
const warning = document.getElementById("key-warning");
const pinned = document.getElementById("pinned-keys");
const fileInput = document.getElementById("keys-file");
const importStatus = document.getElementById("import-status");

function loadTrust() {
  try {
    const trust = JSON.parse(localStorage.getItem(TRUST_KEY) ?? "null");
    if (trust && Array.isArray(trust.log_keys)) return trust;
  } catch {
    // a corrupt entry is treated as none: the next visit pins afresh
  }
  return null;
}

function saveTrust(trust) {
  localStorage.setItem(TRUST_KEY, JSON.stringify(trust));
}

function keyName(vkey) {
  return vkey.slice(0, vkey.indexOf("+"));
}

function showTrust(trust) {
  if (!pinned) return;
  if (!trust) {
    pinned.textContent = "No keys pinned yet.";
    return;
  }
  const witnesses = trust.witness_keys.length
    ? `${trust.witness_keys.length} witness key(s) (${trust.witness_keys.map(keyName).join(", ")}), ` +
      (trust.quorum ? `${trust.quorum} cosignature(s) required` : "no cosignature required")
    : "no witness keys";
  const last = trust.last ? `last verified checkpoint: ${trust.last.size} entries` : "no checkpoint verified yet";
  pinned.textContent =
    `Pinned (${trust.source}): log key(s) ${trust.log_keys.map(keyName).join(", ")}; ${witnesses}; ${last}.`;
}

// First use pins what the server presents (trust on first use).
function pinOnFirstVisit() {
  const trust = loadTrust();
  if (trust || !(data.verifier_keys ?? []).length) return trust;
  const pins = {
    log_keys: data.verifier_keys,
    witness_keys: data.witness_keys ?? [],
    quorum: 0,
    source: "first visit",
    last: null,
  };
  saveTrust(pins);
  return pins;
}

// Warn loudly about any key the server presents that is not pinned.
function compareKeys(trust) {
  if (!warning) return;
  const newLog = (data.verifier_keys ?? []).filter((k) => !trust?.log_keys.includes(k));
  const newWitness = (data.witness_keys ?? []).filter((k) => !trust?.witness_keys.includes(k));
  const problems = [];
  if (trust && newLog.length) {
    problems.push(
      `this server presents log key(s) you have not pinned: ${newLog.join(", ")}. A server that ` +
        "rewrote its payment history and re-signed it would look exactly like this. Checkpoints " +
        "are checked only with your pinned keys; import the new key from a file you obtained " +
        "elsewhere only if you trust that it was rotated legitimately.",
    );
  }
  if (trust && newWitness.length) {
    problems.push(`this server names witness key(s) you have not pinned: ${newWitness.map(keyName).join(", ")}.`);
  }
  warning.textContent = problems.length ? `Warning: ${problems.join(" ")}` : "";
  warning.hidden = !problems.length;
}

let trust = pinOnFirstVisit();
compareKeys(trust);
showTrust(trust);

function verdict(row, ok, text) {
  const cell = row.querySelector(".verdict");
  cell.textContent = text;
  cell.classList.toggle("ok", ok === true);
  cell.classList.toggle("bad", ok === false);
  cell.classList.toggle("pending", ok === null);
}

// This page's entries again, proven against the checkpoint this browser should check.
async function fetchPage() {
  const query = new URLSearchParams({ limit: String(data.limit ?? 100) });
  if (data.after !== null && data.after !== undefined) query.set("after", String(data.after));
  if (trust.last) query.set("since", String(trust.last.size));
  if (trust.quorum > 0) query.set("quorum", String(trust.quorum));
  return call("GET", `/api/v1/wallet?${query}`);
}

function fail(text) {
  status.textContent = text;
  status.className = "verdict bad";
  button.disabled = false;
}

// Rollback and fork detection against the last checkpoint this browser verified.
async function checkHistory(checkpoint, consistency) {
  const last = trust.last;
  if (!last) return "first checkpoint remembered";
  const rememberedRoot = fromHex(last.root);
  if (checkpoint.size < last.size) {
    throw new Error(
      `rollback: the server shows ${checkpoint.size} entries, but you verified a checkpoint of ${last.size} before`,
    );
  }
  if (checkpoint.size === last.size) {
    await verifyConsistency(last.size, checkpoint.size, [], rememberedRoot, checkpoint.root).catch(() => {
      throw new Error(`fork: a checkpoint of ${last.size} entries with another root than the one you verified`);
    });
    return `same as the checkpoint you verified before`;
  }
  const proof =
    consistency?.first === last.size && consistency?.second === checkpoint.size
      ? consistency
      : await call("GET", `/api/v1/ledger/proof/consistency?first=${last.size}&second=${checkpoint.size}`);
  try {
    await verifyConsistency(last.size, checkpoint.size, proof.path.map(fromHex), rememberedRoot, checkpoint.root);
  } catch (error) {
    throw new Error(`fork: not consistent with the checkpoint of ${last.size} entries you verified before (${error.message})`);
  }
  return `consistent with the checkpoint of ${last.size} entries you verified before`;
}

async function verifyAll() {
  button.disabled = true;
  status.textContent = "Checking…";
  trust = loadTrust() ?? trust;
  if (!trust) return fail("Checkpoint failed: no log key pinned; import a keys file.");
  let opened;
  let cosigned = "";
  let history;
  let fresh;
  try {
    fresh = await fetchPage();
    if (!fresh.checkpoint) throw new Error("no checkpoint has been published yet");
  } catch (error) {
    return fail(`Checkpoint failed: could not fetch your entries (${error.message})`);
  }
  const entries = new Map(fresh.entries.map((entry) => [entry.index, entry]));
  try {
    opened = await openCheckpoint(fresh.checkpoint.note, trust.log_keys, data.origin);
    if (trust.quorum > 0) {
      const cosigners = await verifyCosignatures(opened.text, opened.lines, trust.witness_keys, trust.quorum);
      cosigned = `, cosigned by ${cosigners.length} of your ${trust.witness_keys.length} witnesses (${cosigners.join(", ")})`;
    }
    history = await checkHistory(opened.checkpoint, fresh.consistency);
  } catch (error) {
    return fail(`Checkpoint failed: ${error.message}`);
  }
  if (opened.signature === "verified") {
    trust.last = { size: opened.checkpoint.size, root: toHex(opened.checkpoint.root) };
    saveTrust(trust);
    showTrust(trust);
  }
  const signed =
    opened.signature === "verified"
      ? "signature verified (Ed25519)"
      : "signature not checked: this browser lacks Ed25519";
  let passed = 0;
  let failed = 0;
  let pending = 0;
  for (const row of document.querySelectorAll("#entries tbody tr")) {
    const entry = entries.get(Number(row.dataset.index));
    if (entry && entry.proof === null) {
      verdict(row, null, `pending: ${entry.pending ?? "not yet covered by a checkpoint"}`);
      pending += 1;
      continue;
    }
    try {
      if (!entry) throw new Error("the server no longer lists this entry");
      if (entry.leaf !== row.dataset.leaf) throw new Error("the server now shows other bytes for it");
      await verifyEntry(entry.leaf, entry.index, entry.proof, opened.checkpoint);
      verdict(row, true, "✓ verified");
      passed += 1;
    } catch (error) {
      verdict(row, false, `✗ failed: ${error.message}`);
      failed += 1;
    }
  }
  const reason = fresh.entries.find((entry) => entry.proof === null)?.pending;
  const waiting = pending ? `${pending} pending (${reason}; they verify on a later visit), ` : "";
  status.textContent =
    `Checkpoint of ${opened.checkpoint.size} entries, ${signed}${cosigned}, ${history}; ` +
    `${passed} verified, ${waiting}${failed} failed.`;
  status.className = failed ? "verdict bad" : "verdict ok";
  button.disabled = false;
}

// A keys file: verifier keys one a line (an optional URL after a key is ignored, so a
// `loupe ledger check-proof --witnesses` file works as is), `quorum <k>`, `#` comments.
async function parseKeysFile(text) {
  const logKeys = [];
  const witnessKeys = [];
  let quorum = null;
  for (const [number, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const parts = line.split(/\s+/);
    if (parts[0] === "quorum") {
      if (parts.length !== 2 || !/^(0|[1-9][0-9]{0,2})$/.test(parts[1])) {
        throw new Error(`line ${number + 1}: write 'quorum <k>' with a whole number`);
      }
      quorum = Number(parts[1]);
      continue;
    }
    let key;
    try {
      key = await parseKey(parts[0]);
    } catch (error) {
      throw new Error(`line ${number + 1}: ${error.message}`);
    }
    (key.alg === LOG_KEY ? logKeys : witnessKeys).push(parts[0]);
  }
  return { logKeys, witnessKeys, quorum };
}

async function importKeys() {
  importStatus.className = "";
  try {
    const files = [...fileInput.files];
    const parsed = { logKeys: [], witnessKeys: [], quorum: null };
    for (const file of files) {
      const one = await parseKeysFile(await file.text());
      parsed.logKeys.push(...one.logKeys);
      parsed.witnessKeys.push(...one.witnessKeys);
      parsed.quorum = one.quorum ?? parsed.quorum;
    }
    const current = loadTrust();
    const logKeys = parsed.logKeys.length ? [...new Set(parsed.logKeys)] : current?.log_keys ?? [];
    if (!logKeys.length) throw new Error("the file holds no log key (a key whose algorithm byte is 0x01)");
    const witnessKeys = parsed.witnessKeys.length
      ? [...new Set(parsed.witnessKeys)]
      : current?.witness_keys ?? [];
    const quorum = parsed.quorum ?? (parsed.witnessKeys.length ? 1 : current?.quorum ?? 0);
    if (quorum > witnessKeys.length) {
      throw new Error(`quorum ${quorum} is more than the ${witnessKeys.length} witness key(s) given`);
    }
    trust = { log_keys: logKeys, witness_keys: witnessKeys, quorum, source: "imported from a file", last: current?.last ?? null };
    saveTrust(trust);
    showTrust(trust);
    compareKeys(trust);
    importStatus.textContent = `Imported ${parsed.logKeys.length} log key(s) and ${parsed.witnessKeys.length} witness key(s).`;
    importStatus.className = "verdict ok";
  } catch (error) {
    importStatus.textContent = `Not imported (your pinned keys are unchanged): ${error.message}`;
    importStatus.className = "verdict bad";
  }
  fileInput.value = "";
}

button?.addEventListener("click", verifyAll);
fileInput?.addEventListener("change", importKeys);
document.body.dataset.walletReady = "1";
