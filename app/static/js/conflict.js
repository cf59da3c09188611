// The conflict panel: someone else saved the task first. Shows "your version"
// beside "their version" and lets the person choose; nothing happens until then.

import { formatLongDate } from "./dates.js";
import { clear, el } from "./dom.js";
import { BACKLOG_LABEL, FIELD_LABELS, STATUS_LABELS, TASK_FIELDS } from "./model.js";

const dialog = document.getElementById("conflict-dialog");
const rows = document.getElementById("conflict-rows");
const explanation = document.getElementById("conflict-explanation");
const mineButton = dialog.querySelector('[data-action="mine"]');
const theirsButton = dialog.querySelector('[data-action="theirs"]');

let settle = null;

function finish(choice) {
  const resolve = settle;
  settle = null;
  if (dialog.open) dialog.close();
  if (resolve) resolve(choice);
}

mineButton.addEventListener("click", () => finish("mine"));
theirsButton.addEventListener("click", () => finish("theirs"));
// Escape closes the dialog without a choice: treat it as keeping theirs, which changes nothing.
dialog.addEventListener("cancel", (event) => {
  event.preventDefault();
  finish("theirs");
});

export function describeValue(field, value, { sprintId, users } = {}) {
  if (value === null || value === undefined || value === "") {
    if (field === "sprint") return BACKLOG_LABEL;
    if (field === "assigned") return "Unassigned";
    return "—";
  }
  if (field === "status") return STATUS_LABELS[value] || String(value);
  if (field === "sprint") return value === sprintId ? "This sprint" : `Sprint ${value}`;
  if (field === "assigned") {
    const user = users && users.get(value);
    return user && user.full_name ? `${user.full_name} (${value})` : String(value);
  }
  if (["started", "due", "completed"].includes(field)) return formatLongDate(value);
  return String(value);
}

/**
 * Ask which version to keep. `mine` is the task as saving my changes would leave
 * it, `theirs` the current one on the server, `fields` the rows to show.
 * Resolves to "mine" or "theirs".
 */
export function chooseVersion({ mine, theirs, fields, actor, title, mineLabel, context }) {
  if (settle) finish("theirs");
  clear(rows);
  const shown = fields && fields.length ? fields : TASK_FIELDS;
  for (const field of TASK_FIELDS.filter((name) => shown.includes(name))) {
    const mineText = mine ? describeValue(field, mine[field], context) : "Deleted";
    const theirsText = describeValue(field, theirs[field], context);
    rows.append(
      el(
        "tr",
        { className: mineText === theirsText ? "same" : "differs" },
        el("th", { scope: "row", text: FIELD_LABELS[field] }),
        el("td", { className: "mine" }, el("span", { className: "value", text: mineText })),
        el("td", { className: "theirs" }, el("span", { className: "value", text: theirsText })),
      ),
    );
  }
  const who = actor ? actor : "Someone else";
  dialog.querySelector("#conflict-title").textContent = title || "Someone else changed this task";
  explanation.textContent =
    `${who} saved “${theirs.name}” after you started your change. ` + "Choose which version to keep.";
  mineButton.textContent = mineLabel || "Apply mine";
  return new Promise((resolve) => {
    settle = resolve;
    dialog.showModal();
    theirsButton.focus();
  });
}
