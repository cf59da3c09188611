// The task details dialog: edit, move and delete one task.
//
// It opens on the version shown on the board and fetches the current one (with
// its ETag) straight away; saving sends only the fields the person changed, with
// If-Match, so a change someone else saved meanwhile is never overwritten unseen.
// On a board the person may only view, it opens read-only. Below the form: the
// task's comments and activity (./conversation/).

import { ActivityList } from "./conversation/activity.js";
import { CommentsPanel } from "./conversation/comments.js";
import { formatLongDate } from "./dates.js";
import { clear, clearFormErrors, el } from "./dom.js";
import { EditDialog } from "./editdialog.js";
import { changedFields, COLUMNS, columnKeyOf, moveFields, sameTask } from "./model.js";
import { parsePoints, pointsText } from "./points.js";

export class TaskDialog extends EditDialog {
  constructor({ users }) {
    super("task", "task-form");
    this.users = users;
    this.board = null;
    this.taskId = null;
    this.base = null;
    this.fields = {
      name: document.getElementById("task-name"),
      description: document.getElementById("task-description"),
      assigned: document.getElementById("task-assigned"),
      due: document.getElementById("task-due"),
      points: document.getElementById("task-points"),
      status: document.getElementById("task-status"),
    };
    // A column's status as the select's value; "backlog" for the backlog.
    this.fields.status.append(
      ...COLUMNS.map((column) => el("option", { value: column.inSprint ? String(column.status) : column.key, text: column.title })),
    );
    this.datesHint = document.getElementById("task-status-dates");
    this.saveButton = this.form.querySelector('[data-action="save"]');
    this.cancelButton = this.form.querySelector('.dialog-foot [data-action="close"]');
    this.readOnly = false;
    this.activity = new ActivityList({
      list: document.getElementById("task-activity"),
      more: document.getElementById("task-activity-more"),
      status: document.getElementById("task-activity-status"),
    });
    this.comments = new CommentsPanel({ onChanged: () => this.activity.refresh() });
    this.dialog.addEventListener("close", () => {
      this.comments.hide();
      this.activity.reset();
      this.board = null;
      this.taskId = null;
      this.base = null;
    });
  }

  get isOpen() {
    return this.dialog.open;
  }

  async open(board, taskId) {
    const task = board.store.tasks.get(taskId);
    if (!task) return;
    this.board = board;
    this.taskId = taskId;
    this.showNotice(null);
    clearFormErrors(this.form);
    this.confirm.hidden = true;
    this.setBusy(false);
    this.setReadOnly(board.readOnly);
    this.fill(task);
    this.dialog.showModal();
    this.fields.name.focus();
    this.comments.show(board, taskId, board.sprint ? board.roleOf(board.sprint.project) : null);
    this.activity.show(`/api/tasks/${taskId}/activity`);
    // The current version and its ETag, for a save that overwrites nothing unseen.
    const revision = board.store.revision(taskId);
    try {
      const { etag, theirs, gone } = await board.writes.etagFor(task);
      if (this.board !== board || this.taskId !== taskId) return;
      if (gone) {
        this.showNotice("This task has been deleted.");
        this.saveButton.disabled = true;
      } else if (theirs && !this.isDirty()) {
        board.writes.accept(theirs, etag, revision);
        this.fill(theirs);
      }
    } catch {
      // Offline: the save fetches the ETag again (and compares) before writing.
    }
  }

  baseName() {
    return this.base.name;
  }

  /** Show the task without a way to change it (for viewers). */
  setReadOnly(readOnly) {
    this.readOnly = readOnly;
    for (const field of Object.values(this.fields)) {
      if (field.tagName === "SELECT") field.disabled = readOnly;
      else field.readOnly = readOnly;
    }
    this.saveButton.hidden = readOnly;
    this.deleteButton.hidden = readOnly;
    this.cancelButton.textContent = readOnly ? "Close" : "Cancel";
    this.showNotice(readOnly ? "You can view this task but not change it: viewers cannot change this project." : null);
  }

  fill(task) {
    this.base = task;
    this.fields.name.value = task.name;
    this.fields.description.value = task.description || "";
    this.fillUsers(task.assigned);
    this.fields.due.value = task.due || "";
    this.fields.points.value = pointsText(task.points);
    this.fields.status.value = task.sprint === null ? "backlog" : String(task.status);
    const dates = [];
    if (task.started) dates.push(`Started ${formatLongDate(task.started)}`);
    if (task.completed) dates.push(`completed ${formatLongDate(task.completed)}`);
    this.datesHint.textContent = dates.join(", ");
    this.datesHint.hidden = !dates.length;
  }

  fillUsers(selected) {
    const select = this.fields.assigned;
    clear(select);
    select.append(el("option", { value: "", text: "Unassigned" }));
    const usernames = [...this.users.keys()].sort();
    if (selected && !this.users.has(selected)) usernames.push(selected);
    for (const username of usernames) {
      const user = this.users.get(username);
      const label = user && user.full_name ? `${user.full_name} (${username})` : username;
      select.append(el("option", { value: username, text: label }));
    }
    select.value = selected || "";
  }

  /**
   * The fields as the form has them, with the move rules applied for a new status.
   * Points that break the API's rule are left out: save() refuses them beside their field.
   */
  formChanges() {
    const base = this.base;
    const points = parsePoints(this.fields.points.value);
    const values = {
      name: this.fields.name.value.trim(),
      description: this.fields.description.value,
      assigned: this.fields.assigned.value || null,
      due: this.fields.due.value || null,
      ...(points.error ? {} : { points: points.value }),
    };
    const status = this.fields.status.value;
    const columnKey =
      status === "backlog" ? "backlog" : columnKeyOf({ sprint: this.board.sprintId, status: Number(status) });
    if (columnKey !== columnKeyOf(base)) Object.assign(values, moveFields(base, columnKey, this.board.sprintId));
    return changedFields(base, values);
  }

  isDirty() {
    return this.base !== null && this.board !== null && Object.keys(this.formChanges()).length > 0;
  }

  async save() {
    const board = this.board;
    const base = this.base;
    if (!board || !base || this.readOnly) return;
    const { error } = parsePoints(this.fields.points.value);
    const changes = this.changesToSave(error ? { points: [error] } : {}, () => this.formChanges());
    if (!changes) return;
    const result = await board.writes.enqueue(() =>
      board.writes.save(base, changes, { form: this.form, done: `Saved “${changes.name ?? base.name}”.` }),
    );
    if (board !== this.board) return;
    this.setBusy(false);
    if (result) this.close(); // saved, or the person kept their version (KEPT_THEIRS)
  }

  async delete() {
    const board = this.board;
    const base = this.base;
    if (!board || !base || this.readOnly) return;
    this.setBusy(true);
    const deleted = await board.writes.enqueue(() => board.writes.remove(base));
    if (board !== this.board) return;
    this.setBusy(false);
    if (deleted) {
      this.close();
    } else {
      this.confirm.hidden = true;
      const current = board.store.tasks.get(base.id);
      if (current) this.fill(current);
    }
  }

  /** A live change of a comment: the open task's comments follow. */
  commentChange(board, change) {
    if (this.isOpen && board === this.board) this.comments.onChange(change);
  }

  /** A live change reached the task being edited. */
  remoteChange(board, taskId, body, actor, action) {
    if (!this.isOpen || board !== this.board || taskId !== this.taskId) return;
    this.activity.refresh();
    if (actor && actor === board.me && body && this.base && sameTask(body, this.base)) return;
    const who = actor || "Someone";
    if (!body) {
      this.showNotice(
        action === "remove" ? `${who} deleted this task.` : `${who} moved this task to another sprint.`,
      );
      this.saveButton.disabled = true;
      return;
    }
    if (!this.isDirty()) {
      this.fill(body);
      this.showNotice(`${who} changed this task; the form shows their version.`);
      return;
    }
    this.showNotice(
      `${who} changed this task while you were editing it. When you save, you will choose which version to keep.`,
    );
  }
}
