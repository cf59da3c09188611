// A task's comments in its dialog: oldest first, plain text with line breaks
// kept and web addresses clickable (./text.js), live as others comment. Members
// add comments; authors edit theirs; authors and project admins delete.
// Viewers read.

import { api, ApiError, getAll } from "../api.js";
import { clear, clearFormErrors, el, showFormErrors } from "../dom.js";
import { friendlySentence } from "../messages.js";
import { canWrite, isAdmin } from "../projects/list.js";
import { formatMoment } from "./activity.js";
import { textWithLinks } from "./text.js";

export class CommentsPanel {
  constructor({ onChanged = () => {} } = {}) {
    this.onChanged = onChanged; // a comment was added, edited or deleted (the activity follows)
    this.list = document.getElementById("task-comments");
    this.status = document.getElementById("task-comments-status");
    this.form = document.getElementById("comment-form");
    this.input = document.getElementById("comment-body");
    this.reset();
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.post();
    });
  }

  reset() {
    this.board = null;
    this.taskId = null;
    this.me = null;
    this.role = null;
    this.comments = new Map(); // id -> comment
    this.removed = new Set(); // ids removed live while the list was loading
    this.editing = new Map(); // id -> the <li> of a comment being edited (kept across renders)
    this.loads = (this.loads ?? 0) + 1;
  }

  /** Show task `taskId`'s comments, as `role` in its project. */
  async show(board, taskId, role) {
    this.reset();
    Object.assign(this, { board, taskId, me: board.me, role });
    clear(this.list);
    this.input.value = "";
    clearFormErrors(this.form);
    this.form.hidden = !canWrite(role);
    this.setStatus("Loading comments…");
    const load = this.loads;
    try {
      const comments = await getAll(`/api/tasks/${taskId}/comments`);
      if (load !== this.loads) return;
      for (const comment of comments) {
        if (!this.comments.has(comment.id) && !this.removed.has(comment.id)) this.comments.set(comment.id, comment);
      }
      this.render();
    } catch (error) {
      if (load === this.loads) this.setStatus(`The comments could not be loaded: ${error.message}`);
    }
  }

  hide() {
    this.reset();
    clear(this.list);
  }

  /** A live `change` of a comment: shown if it is this task's. */
  onChange({ id, body }) {
    if (this.taskId === null) return;
    if (body && body.task !== this.taskId) return;
    if (!body && !this.comments.has(id)) {
      this.removed.add(id);
      return;
    }
    if (body) this.comments.set(id, body);
    else this.comments.delete(id);
    this.render();
    this.onChanged();
  }

  setStatus(text) {
    this.status.textContent = text || "";
    this.status.hidden = !text;
  }

  render() {
    const items = [...this.comments.values()]
      .sort((a, b) => a.id - b.id)
      .map((comment) => this.editing.get(comment.id) || this.item(comment));
    for (const id of this.editing.keys()) if (!this.comments.has(id)) this.editing.delete(id);
    this.list.replaceChildren(...items);
    this.setStatus(this.comments.size ? "" : "No comments yet.");
  }

  item(comment) {
    const mine = comment.author === this.me;
    const writer = canWrite(this.role);
    const actions = el("div", { className: "comment-actions" });
    const item = el(
      "li",
      { className: "comment", dataset: { commentId: String(comment.id) } },
      el(
        "p",
        { className: "comment-head" },
        el("span", { className: "comment-author", text: comment.author || "Someone" }),
        " ",
        el("time", { attrs: { datetime: comment.created }, text: formatMoment(comment.created) }),
        comment.edited ? el("span", { className: "comment-edited", text: " (edited)" }) : null,
      ),
      el("div", { className: "comment-body" }, textWithLinks(comment.body)),
      actions,
    );
    const button = (text, action) => el("button", { type: "button", className: "button button-small", text, on: { click: action } });
    if (writer && mine) actions.append(button("Edit", () => this.edit(comment, item)));
    if (writer && (mine || isAdmin(this.role))) actions.append(button("Delete", () => this.confirmDelete(comment, actions)));
    actions.hidden = !actions.childElementCount;
    return item;
  }

  async post() {
    const body = this.input.value;
    if (!body.trim()) {
      showFormErrors(this.form, { errors: { body: ["Write something first."] } });
      return;
    }
    const taskId = this.taskId;
    const result = await this.send(this.form, () => api.post(`/api/tasks/${taskId}/comments`, { body }));
    if (result && taskId === this.taskId) {
      if (this.input.value === body) this.input.value = ""; // not what was typed meanwhile
      this.comments.set(result.id, result);
      this.render();
      this.onChanged();
    }
  }

  /** Put a form in place of the comment's text; saving PATCHes it. */
  edit(comment, item) {
    const input = el("textarea", { className: "comment-edit-input", rows: 3, maxLength: 10000, value: comment.body });
    input.setAttribute("aria-label", "Edit your comment");
    const form = el(
      "form",
      { className: "comment-edit", noValidate: true, dataset: { messages: "comment" } },
      el("div", { className: "form-errors", hidden: true, attrs: { role: "alert" }, dataset: { errorsFor: "form body" } }),
      input,
      el(
        "div",
        { className: "button-row" },
        el("button", { type: "submit", className: "button button-small button-primary", text: "Save comment" }),
        el("button", { type: "button", className: "button button-small", text: "Cancel", on: { click: () => this.stopEditing(comment.id) } }),
      ),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const saved = await this.send(form, () => api.patch(`/api/comments/${comment.id}`, { body: input.value }));
      if (saved) {
        this.comments.set(saved.id, saved);
        this.stopEditing(saved.id);
      }
    });
    item.querySelector(".comment-body").replaceWith(form);
    item.querySelector(".comment-actions").hidden = true;
    this.editing.set(comment.id, item);
    input.focus();
  }

  stopEditing(id) {
    this.editing.delete(id);
    this.render();
  }

  confirmDelete(comment, actions) {
    const keep = el("button", { type: "button", className: "button button-small", text: "Keep comment", on: { click: () => this.render() } });
    const remove = el("button", {
      type: "button",
      className: "button button-small button-danger",
      text: "Delete comment",
      on: { click: () => this.remove(comment) },
    });
    actions.replaceChildren(el("span", { className: "comment-question", text: "Delete this comment?" }), keep, remove);
    keep.focus();
  }

  async remove(comment) {
    try {
      await api.delete(`/api/comments/${comment.id}`);
      this.comments.delete(comment.id);
      this.render();
      this.onChanged();
    } catch (error) {
      if (error.status === 404) this.onChange({ id: comment.id, body: null });
      else this.setStatus(friendlySentence("comment", error));
    }
  }

  /** Run a request whose errors show on `form`; resolves to the answer's body or null. */
  async send(form, request) {
    clearFormErrors(form);
    const buttons = form.querySelectorAll("button");
    for (const button of buttons) button.disabled = true;
    try {
      return (await request()).body;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showFormErrors(form, error.body);
      return null;
    } finally {
      for (const button of buttons) button.disabled = false;
    }
  }
}
