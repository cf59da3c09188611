// Editing a sprint from its board: name, dates and description, saved with the
// If-Match of the version the form was filled from; and deleting it, which the
// API refuses (409) while it still has tasks, explained here in words.

import { api, ApiError } from "../api.js";
import { today } from "../dates.js";
import { announce, clearFormErrors, showFormErrors } from "../dom.js";
import { EditDialog } from "../editdialog.js";
import { friendlySentence } from "../messages.js";
import { sprintName } from "../model.js";
import { deleteRefusal, sprintProblems } from "./rules.js";

const FIELDS = ["name", "start", "end", "description"];

export class SprintDialog extends EditDialog {
  constructor() {
    super("sprint", "sprint-edit-form");
    this.board = null;
    this.base = null; // the sprint the form was filled from
    this.etag = null;
    this.refused = document.getElementById("sprint-delete-refused");
    this.inputs = Object.fromEntries(FIELDS.map((field) => [field, document.getElementById(`sprint-edit-${field}`)]));
    this.dialog.addEventListener("close", () => {
      this.board = null;
      this.base = null;
    });
  }

  baseName() {
    return sprintName(this.base);
  }

  askToDelete() {
    this.refused.hidden = true;
    super.askToDelete();
  }

  async open(board) {
    this.board = board;
    clearFormErrors(this.form);
    this.showNotice(null);
    this.confirm.hidden = true;
    this.refused.hidden = true;
    this.fill(board.sprint);
    this.dialog.showModal();
    this.inputs.name.focus();
    try {
      const { body, etag } = await api.get(`/api/sprints/${board.sprintId}`);
      if (this.board !== board) return;
      this.etag = etag;
      if (!this.isDirty()) this.fill(body);
      else this.base = body;
    } catch {
      this.etag = null; // saved without If-Match (last write wins) if it cannot be fetched
    }
  }

  fill(sprint) {
    this.base = sprint;
    for (const field of FIELDS) this.inputs[field].value = sprint[field] || "";
  }

  values() {
    const values = Object.fromEntries(FIELDS.map((field) => [field, this.inputs[field].value]));
    return { ...values, name: values.name.trim() };
  }

  /** The fields the person changed from the version the form was filled from. */
  changes() {
    const values = this.values();
    const changed = FIELDS.filter((field) => values[field] !== (this.base[field] || ""));
    return Object.fromEntries(changed.map((field) => [field, values[field]]));
  }

  isDirty() {
    return Boolean(this.base) && Object.keys(this.changes()).length > 0;
  }

  async save() {
    const { board } = this;
    if (!board) return;
    const changes = this.changesToSave(sprintProblems(this.values(), this.base, today()), () => this.changes());
    if (!changes) return;
    try {
      const { body } = await api.patch(`/api/sprints/${board.sprintId}`, changes, { ifMatch: this.etag });
      if (this.board !== board) return;
      board.sprint = body; // its live change follows; the seq rule keeps the newer of the two
      board.render();
      this.close();
      announce(`Saved “${sprintName(body)}”.`);
    } catch (error) {
      if (this.board !== board) return;
      if (error.status === 412) {
        const { message: _message, ...theirs } = error.body;
        this.base = theirs;
        this.etag = error.etag;
        this.showNotice(
          "Someone else changed this sprint while you were editing it. Check the form and save again to keep your version.",
        );
      } else {
        showFormErrors(this.form, error.body);
      }
    } finally {
      this.setBusy(false);
    }
  }

  async delete() {
    const { board } = this;
    if (!board) return;
    const sprint = this.base;
    this.setBusy(true);
    try {
      await api.delete(`/api/sprints/${board.sprintId}`, { ifMatch: this.etag });
      this.close();
      announce(`Deleted “${sprintName(sprint)}”.`);
      window.location.hash = "#/";
    } catch (error) {
      if (!(error instanceof ApiError) || this.board !== board) return;
      this.confirm.hidden = true;
      this.refused.hidden = false;
      this.refused.textContent = this.refusal(error, sprint, board);
      if (error.status === 412) this.etag = error.etag;
      this.deleteButton.focus();
    } finally {
      this.setBusy(false);
    }
  }

  refusal(error, sprint, board) {
    if (error.status === 409) return deleteRefusal(sprint, board.store.sprintTasks().length);
    if (error.status === 412) return "Someone else changed this sprint just now. Check it, then delete it again.";
    return friendlySentence("sprint", error);
  }

  /** The board's sprint changed live (someone else saved it) while the form is open. */
  remoteChange(board, sprint, actor) {
    if (!this.dialog.open || board !== this.board || !sprint) return;
    if (actor === board.me && !this.isDirty()) return;
    this.etag = null; // fetched again below
    if (!this.isDirty()) {
      this.fill(sprint);
      this.showNotice(`${actor || "Someone"} changed this sprint; the form shows their version.`);
    } else {
      this.base = sprint;
      this.showNotice(`${actor || "Someone"} changed this sprint while you were editing it. Saving keeps your version.`);
    }
    api.get(`/api/sprints/${board.sprintId}`).then(
      ({ etag }) => this.board === board && (this.etag = etag),
      () => {},
    );
  }
}
