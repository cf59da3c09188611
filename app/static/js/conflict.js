// The conflict panel: someone else saved the task first and changed a field
// this person changed too. Shows only the fields where "your version" and
// "their version" differ, marks what they changed since the version this person
// started from (beside it), and lets the person choose; nothing happens until then.
// (Edits to different fields never come here: ./board/writes.js merges them.)

import { formatLongDate } from "./dates.js";
import { byIds, clear, el } from "./dom.js";
import { BACKLOG_LABEL, differingFields, FIELD_LABELS, STATUS_LABELS } from "./model.js";

const panel = byIds({
  dialog: "conflict-dialog",
  rows: "conflict-rows",
  explanation: "conflict-explanation",
  mineHeading: "conflict-mine-heading",
  beforeHeading: "conflict-before-heading",
});
const mineButton = panel.dialog.querySelector('[data-action="mine"]');
const theirsButton = panel.dialog.querySelector('[data-action="theirs"]');

let settle = null;

function finish(choice) {
  const resolve = settle;
  settle = null;
  if (panel.dialog.open) panel.dialog.close();
  if (resolve) resolve(choice);
}

mineButton.addEventListener("click", () => finish("mine"));
theirsButton.addEventListener("click", () => finish("theirs"));
// Escape closes the dialog without a choice: treat it as keeping theirs, which changes nothing.
panel.dialog.addEventListener("cancel", (event) => {
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
 * Ask which version to keep. `base` is the task as this person last saw it,
 * `mine` as saving their changes would leave it (null: deleting it), `theirs`
 * the current one on the server. Resolves to "mine" or "theirs".
 */
export function chooseVersion({ base, mine, theirs, actor, title, mineLabel, context }) {
  if (settle) finish("theirs");
  clear(panel.rows);
  const who = actor || "Someone else";
  const yours = mine || base;
  const cell = (className, field, task) =>
    el("td", { className }, el("span", { className: "value", text: describeValue(field, task[field], context) }));
  for (const field of differingFields(yours, theirs)) {
    const theyChanged = (base[field] ?? null) !== (theirs[field] ?? null);
    panel.rows.append(
      el(
        "tr",
        { className: theyChanged ? "they-changed" : "" },
        el("th", { scope: "row", text: FIELD_LABELS[field] }),
        cell("mine", field, yours),
        cell("theirs", field, theirs),
        mine ? cell("before", field, base) : null,
      ),
    );
  }
  panel.beforeHeading.hidden = !mine;
  panel.dialog.querySelector("#conflict-title").textContent = title || "Someone else changed this task";
  panel.mineHeading.textContent = mine ? "Your version" : "As you saw it";
  panel.explanation.textContent = mine
    ? `${who} saved “${theirs.name}” after you started your change, and changed what you changed. ` +
      "Their other changes are kept either way. Choose which version to keep."
    : `${who} changed “${theirs.name}” after you last saw it. Delete it anyway, or keep it?`;
  mineButton.textContent = mineLabel || "Apply mine";
  return new Promise((resolve) => {
    settle = resolve;
    panel.dialog.showModal();
    theirsButton.focus();
  });
}
