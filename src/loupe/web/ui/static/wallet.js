// "Verify my entries": check the signed checkpoint, then each entry's inclusion proof.
import { openCheckpoint, verifyEntry } from "./merkle.js";

const data = JSON.parse(document.getElementById("checkpoint-data").textContent);
const button = document.getElementById("verify");
const status = document.getElementById("checkpoint-status");

function verdict(row, ok, text) {
  const cell = row.querySelector(".verdict");
  cell.textContent = text;
  cell.classList.toggle("ok", ok);
  cell.classList.toggle("bad", !ok);
}

async function verifyAll() {
  button.disabled = true;
  status.textContent = "Checking…";
  let opened;
  try {
    opened = await openCheckpoint(data.note, data.verifier_keys, data.origin);
  } catch (error) {
    status.textContent = `Checkpoint failed: ${error.message}`;
    status.className = "verdict bad";
    button.disabled = false;
    return;
  }
  const signed =
    opened.signature === "verified"
      ? "signature verified (Ed25519)"
      : "signature not checked: this browser lacks Ed25519";
  let passed = 0;
  let failed = 0;
  for (const row of document.querySelectorAll("#entries tbody tr")) {
    try {
      const proof = JSON.parse(row.dataset.proof);
      if (proof === null) continue; // newer than the checkpoint
      await verifyEntry(row.dataset.leaf, Number(row.dataset.index), proof, opened.checkpoint);
      verdict(row, true, "✓ verified");
      passed += 1;
    } catch (error) {
      verdict(row, false, `✗ failed: ${error.message}`);
      failed += 1;
    }
  }
  status.textContent = `Checkpoint of ${opened.checkpoint.size} entries, ${signed}; ${passed} verified, ${failed} failed.`;
  status.className = failed ? "verdict bad" : "verdict ok";
  button.disabled = false;
}

button?.addEventListener("click", verifyAll);
