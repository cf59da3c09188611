// The "+ Add task" button at the foot of a column and the small form it opens.

import { clearFormErrors, el, showFormErrors, uniqueId } from "../dom.js";

/** The add-task control of `column`; `create(name, form)` resolves to the new task or null. */
export function addTaskControl(column, create) {
  const inputId = uniqueId("new-task");
  const errorId = `${inputId}-error`;
  const open = el("button", {
    type: "button",
    className: "add-task-button",
    attrs: { "aria-label": `Add task to ${column.title}` },
    text: "+ Add task",
  });
  const input = el("input", {
    id: inputId,
    name: "name",
    maxLength: 100,
    autocomplete: "off",
    attrs: { "aria-describedby": errorId },
  });
  const cancel = el("button", { type: "button", className: "button button-small", text: "Cancel" });
  const form = el(
    "form",
    { className: "add-task-form", hidden: true, noValidate: true, dataset: { messages: "task" } },
    el("div", { className: "form-errors", hidden: true, attrs: { role: "alert" }, dataset: { errorsFor: "form" } }),
    el("label", { htmlFor: inputId, text: "Task name" }),
    input,
    el("p", {
      className: "field-error",
      id: errorId,
      hidden: true,
      dataset: { errorsFor: "name sprint status started completed order project" },
    }),
    el(
      "div",
      { className: "button-row" },
      el("button", { type: "submit", className: "button button-primary button-small", text: "Add" }),
      cancel,
    ),
  );
  const close = () => {
    form.hidden = true;
    open.hidden = false;
    clearFormErrors(form);
    input.value = "";
    open.focus();
  };
  open.addEventListener("click", () => {
    open.hidden = true;
    form.hidden = false;
    input.focus();
  });
  cancel.addEventListener("click", close);
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = input.value.trim();
    if (!name) {
      showFormErrors(form, { errors: { name: ["Enter a name for the task."] } });
      return;
    }
    if (await create(name, form)) {
      input.value = "";
      clearFormErrors(form);
      input.focus();
    }
  });
  return el("div", { className: "column-add" }, open, form);
}
