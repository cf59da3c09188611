// "Since you were last here": the last seq this browser saw on a board, kept in
// localStorage per person and board, and where it splits a list of entries.

const PREFIX = "scrumboard.seen";

/**
 * Split `entries` (newest first, each with a `seq`) at `lastSeen`: `fresh` came
 * after it, `older` at or before. With no `lastSeen` (a first visit) nothing is fresh.
 */
export function splitSince(entries, lastSeen) {
  if (lastSeen === null || lastSeen === undefined) return { fresh: [], older: [...entries] };
  return {
    fresh: entries.filter((entry) => entry.seq > lastSeen),
    older: entries.filter((entry) => entry.seq <= lastSeen),
  };
}

/** The last seq seen, read and written in `storage` (localStorage) under one key per person and board. */
export class LastSeen {
  constructor(storage, username, sprintId) {
    this.storage = storage;
    this.key = `${PREFIX}.${username}.${sprintId}`;
  }

  read() {
    const value = Number.parseInt(this.storage.getItem(this.key) ?? "", 10);
    return Number.isFinite(value) ? value : null;
  }

  /** Keep `seq`, whatever was kept: the log it was seen in was replaced. */
  restart(seq) {
    this.storage.setItem(this.key, String(seq));
  }

  /** Remember `seq` when it is newer than what is kept. */
  write(seq) {
    if (typeof seq !== "number") return;
    const kept = this.read();
    if (kept === null || seq > kept) this.storage.setItem(this.key, String(seq));
  }
}
