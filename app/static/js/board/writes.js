// Saving from the board: moves, new tasks, edits and deletes, each with the
// If-Match of the version the person saw. When that ETag is unknown (after a
// list load or a remote change) the task is fetched first, and a server copy
// that differs from what the person saw is a conflict, shown like a 412.
// Offline, moves and edits wait in ./outbox.js; one's own moves and deletes can
// be undone from their toast (./undo.js).

import { api, ApiError } from "../api.js";
import { chooseVersion } from "../conflict.js";
import { announce, showFormErrors } from "../dom.js";
import { friendlySentence } from "../messages.js";
import {
  changedFields,
  COLUMN_BY_KEY,
  columnKeyOf,
  differingFields,
  isStepKey,
  KEPT_THEIRS,
  mergeEdit,
  moveFields,
  newTaskFields,
  placeAt,
  sameTask,
  stepTarget,
} from "../model.js";
import { QUEUED } from "./outbox.js";

export class BoardWrites {
  constructor(board) {
    this.board = board;
    this.store = board.store;
    this.queue = Promise.resolve();
  }

  /**
   * Run `operation` after the writes already under way have finished, so that
   * each starts from the version the previous one left (quick successive moves
   * of one task would otherwise race each other).
   */
  enqueue(operation) {
    const run = this.queue.then(operation);
    this.queue = run.catch(() => {});
    return run;
  }

  move(taskId, columnKey, index, options) {
    if (this.board.readOnly) return Promise.resolve();
    return this.enqueue(() => this.place(taskId, columnKey, index, options));
  }

  /** Alt+Arrow on a card: left/right to the next column, up/down within the column. */
  moveByKey(taskId, key) {
    if (this.board.readOnly || !isStepKey(key) || !this.store.tasks.has(taskId)) return false;
    // Where "next" is depends on the moves before this one: work it out when its turn comes.
    this.enqueue(() => {
      const task = this.store.tasks.get(taskId);
      const target = task && stepTarget(task, key, (columnKey) => this.store.columnTasks(columnKey));
      return target && this.place(taskId, target.columnKey, target.index, { focus: true });
    });
    return true;
  }

  /** Put a task at `index` of a column: the move rules, a new order, one PATCH (and renumbering if needed). */
  async place(taskId, columnKey, index, { focus = false } = {}) {
    const task = this.store.tasks.get(taskId);
    if (!task) return;
    const others = this.store.columnTasks(columnKey).filter((item) => item.id !== taskId);
    const { order, renumber } = placeAt(task, others, index);
    // Within its column a task changes only its position; into another, the move rules apply.
    const sprintId = this.board.sprintId;
    const target = columnKeyOf(task) === columnKey ? { order } : { ...moveFields(task, columnKey, sprintId), order };
    const changes = changedFields(task, target);
    if (!Object.keys(changes).length) return;
    const done = `Moved “${task.name}” to ${COLUMN_BY_KEY.get(columnKey).title}.`;
    const saving = this.save(task, changes, { optimistic: true, done, undoable: true });
    // The card has moved already (optimistically); keep the keyboard on it.
    if (focus) this.board.focusCard(taskId);
    const saved = await saving;
    if (focus && document.activeElement === document.body) this.board.focusCard(taskId);
    if (!saved || saved === KEPT_THEIRS || saved === QUEUED) return;
    for (const [other, wanted] of renumber) {
      const current = other.id === taskId ? null : this.store.tasks.get(other.id);
      if (current && current.order !== wanted) await this.save(current, { order: wanted }, { quiet: true });
    }
  }

  async create(name, columnKey, form) {
    const fields = newTaskFields(name, columnKey, this.board.sprintId, this.store.columnTasks(columnKey));
    try {
      const { body, etag } = await api.post("/api/tasks", this.board.withProject(fields));
      this.store.remember(body.id, etag, body);
      if (!this.store.revisions.has(body.id)) {
        // Its live "add" has not come yet: show it now, until that echo arrives.
        this.store.setOverride(body.id, body, false);
        this.board.render();
      }
      announce(`Added “${body.name}” to ${COLUMN_BY_KEY.get(columnKey).title}.`);
      return body;
    } catch (error) {
      showFormErrors(form, error.body);
      return null;
    }
  }

  /**
   * The ETag of exactly the version `base` of a task. Resolves to `{etag}` when
   * known or fetched and unchanged, or `{etag, theirs}` when the server's copy has
   * moved on (a conflict), or `{gone: true}`.
   */
  async etagFor(base) {
    const known = this.store.etagOf(base);
    if (known) return { etag: known };
    try {
      const { body, etag } = await api.get(`/api/tasks/${base.id}`);
      this.store.remember(base.id, etag, body);
      return sameTask(body, base) ? { etag } : { etag, theirs: body };
    } catch (error) {
      if (error.status === 404) return { gone: true };
      throw error;
    }
  }

  /** Fetch a task's ETag ahead of an edit (when a drag starts). */
  prefetch(taskId) {
    const task = this.store.tasks.get(taskId);
    if (task && !this.store.etagOf(task)) this.etagFor(task).catch(() => null);
  }

  /**
   * Save `changes` to the task the person saw as `base`, with If-Match. A newer
   * version on the server (412, or found before sending) goes to the person to
   * decide. Resolves to the saved task, KEPT_THEIRS, QUEUED (offline: it waits in
   * the outbox), or null (an error, shown). `form` shows validation errors beside
   * its fields; otherwise they are announced. `undoable` offers Undo on the toast;
   * `sending` is the outbox sending what waited (it keeps it if still offline).
   */
  async save(base, changes, settings = {}) {
    const { form = null, optimistic = false, done = null, quiet = false, undoable = false, sending = false } = settings;
    const { id } = base;
    const { outbox } = this.board;
    if (!sending && outbox.offline) return outbox.add(base, changes);
    const options = { form, done, quiet, revision: this.store.revision(id) };
    let shown = null;
    if (optimistic) {
      this.store.setOverride(id, { ...base, ...changes }, true);
      shown = this.store.overrides.get(id);
      this.board.render();
    }
    const restore = () => {
      if (this.store.withdraw(id, shown)) this.board.render();
      shown = null;
    };
    try {
      const { etag, theirs, gone } = await this.etagFor(base);
      if (gone) throw new ApiError(404, { message: `“${base.name}” has been deleted.` });
      if (theirs) {
        restore();
        return await this.resolveConflict(base, changes, theirs, etag, options);
      }
      const answer = await api.patch(`/api/tasks/${id}`, changes, { ifMatch: etag });
      this.store.remember(id, answer.etag, answer.body);
      this.store.setOverride(id, answer.body, false);
      this.board.render();
      if (done && !quiet && undoable) this.board.undo.offerMove(done, base, changes, answer.body, answer.etag);
      else if (done && !quiet) announce(done);
      return answer.body;
    } catch (error) {
      restore();
      if (!(error instanceof ApiError)) throw error;
      if (error.status === 0) return sending ? QUEUED : outbox.add(base, changes); // the server is out of reach
      if (error.status === 412) {
        const theirs = withoutMessage(error.body);
        this.store.remember(id, error.etag, theirs);
        return await this.resolveConflict(base, changes, theirs, error.etag, options);
      }
      if (error.status === 404) {
        this.forget(id);
        announce(`“${base.name}” no longer exists; someone deleted it.`, "error");
        return null;
      }
      if (form) showFormErrors(form, error.body);
      else if (!quiet) announce(friendlySentence("task", error), "error");
      return null;
    }
  }

  /**
   * Someone else saved first. Changes to fields they left alone are saved on top
   * of their version at once; only fields we both changed are the person's to decide.
   */
  async resolveConflict(base, changes, theirs, theirEtag, { form, done, quiet, revision }) {
    const mine = { ...theirs, ...changes };
    if (sameTask(theirs, base)) {
      // Only the ETag moved (nothing visible changed): nothing of theirs can be lost.
      return this.save(theirs, changes, { form, done, quiet });
    }
    if (sameTask(mine, theirs)) {
      this.accept(theirs, theirEtag, revision);
      if (done) announce(done);
      return theirs;
    }
    const { clashes, merged } = mergeEdit(base, theirs, changes);
    if (quiet && (clashes.length || theirs.order !== base.order)) {
      // Housekeeping (renumbering the neighbours of a moved task) never overrides anyone.
      this.accept(theirs, theirEtag, revision);
      return null;
    }
    if (!clashes.length) {
      const who = this.store.lastActor.get(base.id) || "Someone else";
      const both = done && `${done} ${who} had changed other fields of it; both changes are kept.`;
      return this.save(theirs, merged, { form, done: both, quiet });
    }
    const choice = await this.choose(base.id, { base, mine, theirs });
    if (choice === "mine") {
      return this.save(theirs, changes, { form, done: done || `Saved your version of “${mine.name}”.` });
    }
    this.accept(theirs, theirEtag, revision);
    announce(`Kept their version of “${theirs.name}”.`);
    return KEPT_THEIRS;
  }

  choose(taskId, question) {
    const context = { sprintId: this.board.sprintId, users: this.board.users };
    return chooseVersion({ ...question, actor: this.store.lastActor.get(taskId), context });
  }

  /** Take the server's answer to a read as the task's current version (see TaskStore.accept). */
  accept(body, etag, revision) {
    if (this.store.accept(body, etag, revision)) this.board.render();
  }

  forget(id) {
    this.store.forget(id);
    this.board.render();
  }

  async remove(base) {
    const { id } = base;
    const revision = this.store.revision(id);
    try {
      const { etag, theirs, gone } = await this.etagFor(base);
      if (gone) {
        this.forget(id);
        announce(`“${base.name}” was already deleted.`);
        return true;
      }
      if (theirs) return this.confirmRemoveAfterChange(base, theirs, etag, revision);
      await api.delete(`/api/tasks/${id}`, { ifMatch: etag });
      this.forget(id);
      this.board.undo.offerDelete(`Deleted “${base.name}”.`, base);
      return true;
    } catch (error) {
      if (error.status === 412) {
        return this.confirmRemoveAfterChange(base, withoutMessage(error.body), error.etag, revision);
      }
      if (error.status === 404) {
        this.forget(id);
        return true;
      }
      announce(friendlySentence("task", error), "error");
      return false;
    }
  }

  async confirmRemoveAfterChange(base, theirs, etag, revision) {
    this.store.remember(base.id, etag, theirs);
    if (!differingFields(base, theirs).length) return this.remove(theirs); // only moved within its column
    const choice = await this.choose(base.id, { base, mine: null, theirs, mineLabel: "Delete anyway" });
    if (choice === "mine") return this.remove(theirs);
    this.accept(theirs, etag, revision);
    announce(`Kept “${theirs.name}”.`);
    return false;
  }
}

/** A 412's body is the current task with a message beside its fields. */
function withoutMessage(body) {
  const { message: _message, ...rest } = body || {};
  return rest;
}
