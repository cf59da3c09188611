// Which live changes a board applies, by the contract's seq rules: a change is
// applied only when its seq is above the last one applied to that object, and
// above everything the last REST load already showed. A late or repeated event
// never rolls an object back.

export class SeqGate {
  constructor() {
    this.applied = new Map(); // "model:id" -> seq of the change last applied to it
    this.floor = 0; // the REST load shows everything up to this seq: older changes are stale
    this.last = null; // the highest seq seen, the `since` of the next subscribe (null: load afresh)
  }

  /** Note a change's seq as seen, whether or not it is applied. */
  saw(seq) {
    this.last = Math.max(this.last ?? 0, seq);
  }

  /** A REST load made after an ack carrying `seq` shows every change up to it, removals included. */
  loadedUpTo(seq) {
    if (seq < (this.last ?? 0)) {
      // The log is behind what this board saw: it is another log (the database was replaced),
      // whose numbers say nothing of those seen before. Start over from this load.
      this.applied.clear();
      this.floor = seq;
      this.last = seq;
      return;
    }
    this.floor = Math.max(this.floor, seq);
    this.saw(seq);
  }

  /** Start over: the next subscribe loads the board again. */
  forget() {
    this.last = null;
  }

  /** Whether `change` is newer than anything applied to its object; if so it counts as applied. */
  admit(change) {
    const key = `${change.model}:${change.id}`;
    if (change.seq <= Math.max(this.floor, this.applied.get(key) ?? 0)) return false;
    this.applied.set(key, change.seq);
    return true;
  }
}

/** Whether a payload is a `change` this client can order at all. */
export function isChange(change) {
  return Boolean(change) && typeof change.seq === "number";
}
