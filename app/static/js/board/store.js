// The tasks of one board, free of the DOM: the server's copy of each, my own
// writes shown until the server echoes them, and the ETag of each version.
//
// ETags: an ETag is good for exactly the version of the task it came with, so
// each is kept with that version. A write is shown (as an override) while in
// flight and after it until its live echo arrives, so that a late echo of an
// earlier write of mine never moves the card back meanwhile.

import { byOrder, columnKeyOf, isOnBoard, sameTask } from "../model.js";

const OVERRIDE_LIFETIME = 5000; // ms: without an echo, the server's copy wins after this

export class TaskStore {
  constructor(sprintId, { onExpire = () => {}, overrideLifetime = OVERRIDE_LIFETIME } = {}) {
    this.sprintId = sprintId;
    this.onExpire = onExpire;
    this.overrideLifetime = overrideLifetime;
    this.server = new Map(); // task id -> the task as the server last told us (REST or live)
    this.overrides = new Map(); // task id -> {body, pending, seen, timer}: my own write, shown until its echo
    this.tasks = new Map(); // task id -> the task as shown: my write in flight, else the server's
    this.known = new Map(); // task id -> {etag, body}: the ETag of exactly that version
    this.revisions = new Map(); // task id -> count of live changes applied (guards REST answers)
    this.lastActor = new Map(); // task id -> who changed it last (from live changes)
  }

  /** Replace the server's copies with a REST load; writes still in flight stay shown. */
  load(tasks) {
    this.server = new Map(tasks.map((task) => [task.id, task]));
    for (const [id, override] of this.overrides) if (!override.pending) this.dropOverride(id);
    this.tasks = new Map();
    for (const id of new Set([...this.server.keys(), ...this.overrides.keys()])) this.refresh(id);
  }

  /** Apply a task `change` (already admitted by seq); returns whether the board shows or showed it. */
  applyChange({ id, body, actor }) {
    const had = this.tasks.has(id);
    if (body) this.server.set(id, body);
    else this.server.delete(id);
    const override = this.overrides.get(id);
    if (override && override.pending) override.seen.push(body);
    else if (override && body && sameTask(body, override.body)) this.dropOverride(id); // my echo
    this.refresh(id);
    this.revisions.set(id, this.revision(id) + 1);
    this.lastActor.set(id, actor);
    return isOnBoard(body, this.sprintId) || had;
  }

  /** What the board shows for a task: my own write until the server echoes it, else the server's copy. */
  refresh(id) {
    const override = this.overrides.get(id);
    const body = override ? override.body : this.server.get(id);
    if (isOnBoard(body, this.sprintId)) this.tasks.set(id, body);
    else this.tasks.delete(id);
  }

  /** Show my version `body` of a task, `pending` while the write is in flight. */
  setOverride(id, body, pending) {
    const previous = this.overrides.get(id);
    clearTimeout(previous?.timer);
    const override = { body, pending, seen: pending ? [] : previous?.seen || [], timer: null };
    if (!pending) {
      const current = this.server.get(id);
      if ((current && sameTask(current, body)) || override.seen.some((seen) => seen && sameTask(seen, body))) {
        // The echo came before the answer: the server's copy is at least as new.
        this.overrides.delete(id);
        this.refresh(id);
        return;
      }
      // Without an echo (offline, or out of order across processes) the server's copy wins after a while.
      override.timer = setTimeout(() => {
        if (this.overrides.get(id) === override) {
          this.dropOverride(id);
          this.onExpire(id);
        }
      }, this.overrideLifetime);
    }
    this.overrides.set(id, override);
    this.refresh(id);
  }

  dropOverride(id) {
    clearTimeout(this.overrides.get(id)?.timer);
    this.overrides.delete(id);
    this.refresh(id);
  }

  /** Drop my override `override` if it is still the one shown; returns whether it was. */
  withdraw(id, override) {
    if (!override || this.overrides.get(id) !== override) return false;
    this.dropOverride(id);
    return true;
  }

  revision(id) {
    return this.revisions.get(id) ?? 0;
  }

  remember(id, etag, body) {
    this.known.set(id, { etag, body });
  }

  /** The ETag of exactly the version `base`, when known. */
  etagOf(base) {
    const known = this.known.get(base.id);
    return known && sameTask(known.body, base) ? known.etag : null;
  }

  /**
   * Record a task as the server answered a read (or a 412), unless a live change
   * was applied since `revision` was taken: that one may be newer. Returns
   * whether the shown task may have changed.
   */
  accept(body, etag, revision) {
    this.remember(body.id, etag, body);
    if (this.revision(body.id) !== revision) return false;
    this.server.set(body.id, body);
    this.refresh(body.id);
    return true;
  }

  forget(id) {
    this.server.delete(id);
    this.known.delete(id);
    this.dropOverride(id);
  }

  /** Stop every timer (the board is closing). */
  stop() {
    for (const override of this.overrides.values()) clearTimeout(override.timer);
  }

  sprintTasks() {
    return [...this.tasks.values()].filter((task) => task.sprint === this.sprintId);
  }

  columnTasks(columnKey) {
    return [...this.tasks.values()].filter((task) => columnKeyOf(task) === columnKey).sort(byOrder);
  }
}
