// A sprint's rules as the API enforces them, checked before sending so that each
// message shows beside its field at once; the server checks them again.

import { addDays } from "../dates.js";
import { sprintName } from "../model.js";

export const SPRINT_MESSAGES = {
  endRequired: "Choose the date the sprint ends.",
  endPast: "End date cannot be in the past.",
  endTaken: "A sprint with this end date already exists.",
  startAfterEnd: "Start date must be on or before the end date.",
  nameTooLong: "A sprint's name can have at most 100 characters.",
};

/**
 * What is wrong with sprint `values` ({name, start, end}; start empty for the
 * default) on `now`, as an API error body's `errors` (empty when nothing is).
 * `before` is the sprint as it was (null for a new one), `others` the project's
 * other sprints the page knows.
 */
export function sprintProblems(values, before, now, others = []) {
  const errors = {};
  const add = (field, message) => (errors[field] ||= []).push(message);
  if ((values.name || "").length > 100) add("name", SPRINT_MESSAGES.nameTooLong);
  const end = values.end || null;
  if (!end) {
    add("end", SPRINT_MESSAGES.endRequired);
    return errors;
  }
  const endChanged = !before || before.end !== end;
  if (endChanged && end < now) add("end", SPRINT_MESSAGES.endPast);
  else if (endChanged && others.some((sprint) => sprint.end === end && sprint.id !== before?.id)) {
    add("end", SPRINT_MESSAGES.endTaken);
  }
  const start = values.start || (before ? before.start : addDays(end, -14));
  if (start && start > end) add("start", SPRINT_MESSAGES.startAfterEnd);
  return errors;
}

/** Why a sprint with tasks cannot be deleted, in words (`count` of its tasks, when known). */
export function deleteRefusal(sprint, count) {
  const tasks = count ? `${count} ${count === 1 ? "task" : "tasks"}` : "tasks";
  return (
    `“${sprintName(sprint)}” still has ${tasks}, so it cannot be deleted yet. ` +
    "Move them to another sprint or to the backlog, or delete them, then delete the sprint."
  );
}
