// What the task and sprint dialogs share: a form in a <dialog> that saves only
// what the person changed, a notice above it, and "Delete…", which asks first.
// Their markup comes from the same macros (templates/macros.html), so the ids
// follow one pattern: #task-dialog, #task-dialog-notice, #task-delete-confirm, …
//
// A subclass provides save(), delete() and baseName() (the name of what the form
// was filled from, for the delete question).

import { clearFormErrors, showFormErrors } from "./dom.js";

export class EditDialog {
  constructor(noun, formId) {
    this.dialog = document.getElementById(`${noun}-dialog`);
    this.form = document.getElementById(formId);
    this.notice = document.getElementById(`${noun}-dialog-notice`);
    this.confirm = document.getElementById(`${noun}-delete-confirm`);
    this.confirmQuestion = document.getElementById(`${noun}-delete-question`);
    this.deleteButton = this.form.querySelector('[data-action="delete"]');
    this.keepButton = this.confirm.querySelector('[data-action="delete-cancel"]');

    for (const button of this.form.querySelectorAll('[data-action="close"]')) {
      button.addEventListener("click", () => this.close());
    }
    this.deleteButton.addEventListener("click", () => this.askToDelete());
    this.keepButton.addEventListener("click", () => {
      this.confirm.hidden = true;
      this.deleteButton.focus();
    });
    this.confirm.querySelector('[data-action="delete-confirm"]').addEventListener("click", () => this.delete());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  askToDelete() {
    this.confirmQuestion.textContent = `Delete “${this.baseName()}”? This cannot be undone.`;
    this.confirm.hidden = false;
    this.keepButton.focus();
  }

  /**
   * The changes to save, with the form busy until the save ends; or null, when
   * `errors` (field -> messages, found before asking the server) are shown beside
   * their fields, or when `changes()` is empty (the dialog closes: nothing to save).
   */
  changesToSave(errors, changes) {
    clearFormErrors(this.form);
    if (Object.keys(errors).length) {
      showFormErrors(this.form, { errors });
      return null;
    }
    const changed = changes();
    if (!Object.keys(changed).length) {
      this.close();
      return null;
    }
    this.setBusy(true);
    return changed;
  }

  setBusy(busy) {
    for (const button of this.form.querySelectorAll("button")) button.disabled = busy;
    this.form.setAttribute("aria-busy", busy ? "true" : "false");
  }

  showNotice(text) {
    this.notice.textContent = text || "";
    this.notice.hidden = !text;
  }
}
