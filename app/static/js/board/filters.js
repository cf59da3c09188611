// Board filters, free of the DOM: who a task is assigned to, text in its name or
// description, and overdue. A filter lives in the page's query string
// (`?assignee=me&q=login&overdue=1`) so that a filtered board can be shared.

import { STATUS } from "../model.js";

export const NO_FILTER = Object.freeze({ assignee: "", text: "", overdue: false });

// "me" and "unassigned" are choices of their own. A person whose username is one of those is
// chosen as "~me" or "~unassigned": "~" is in no username.
const CHOICES = ["me", "unassigned"];

/** The assignee choice that names the person `username`. */
export function personChoice(username) {
  return CHOICES.includes(username) ? `~${username}` : username;
}

/** The username an assignee choice names (for a person, not "me" or "unassigned"). */
export function chosenPerson(assignee) {
  return assignee.startsWith("~") ? assignee.slice(1) : assignee;
}

/** The filter an address's query string names (missing parts: no filter on them). */
export function parseFilter(search) {
  const params = new URLSearchParams(search);
  return {
    assignee: (params.get("assignee") || "").trim(),
    text: (params.get("q") || "").trim(),
    overdue: params.get("overdue") === "1",
  };
}

/** `search` with `filter` in it, keeping every other parameter (the project, say). */
export function searchWithFilter(search, filter) {
  const params = new URLSearchParams(search);
  const set = (name, value) => (value ? params.set(name, value) : params.delete(name));
  set("assignee", filter.assignee);
  set("q", filter.text);
  set("overdue", filter.overdue ? "1" : "");
  const query = params.toString();
  return query ? `?${query}` : "";
}

export function isFiltering(filter) {
  return Boolean(filter.assignee || filter.text || filter.overdue);
}

/**
 * Whether `task` passes `filter` for the person `me` on `today` (YYYY-MM-DD).
 * Assignee "me" is `me`, "unassigned" is nobody, anything else a person (`personChoice`);
 * text matches name or description, case-insensitively; overdue is a due date before today
 * on a task not Done.
 */
export function matchesFilter(task, filter, { me, today }) {
  const { assignee, text, overdue } = filter;
  if (assignee === "unassigned") {
    if (task.assigned) return false;
  } else if (assignee === "me") {
    if (task.assigned !== me) return false;
  } else if (assignee && task.assigned !== chosenPerson(assignee)) return false;
  if (text) {
    const needle = text.toLocaleLowerCase();
    const haystack = `${task.name}\n${task.description || ""}`.toLocaleLowerCase();
    if (!haystack.includes(needle)) return false;
  }
  if (overdue && !(task.due && task.due < today && task.status !== STATUS.DONE)) return false;
  return true;
}

/** A column's count as its header says it: "7", or "3 of 7" while filtering. */
export function countText(shown, total, filtering) {
  return filtering ? `${shown} of ${total}` : String(total);
}
