// The board's filter bar: assignee, text and overdue, read from and written to
// the page's address (./filters.js), so a filtered board can be shared. The
// board applies the filter on every render, live changes included.

import { byIds, el } from "../dom.js";
import { NO_FILTER, chosenPerson, isFiltering, parseFilter, personChoice, searchWithFilter } from "./filters.js";

export class FilterBar {
  constructor(board) {
    this.board = board;
    this.filter = parseFilter(window.location.search);
    Object.assign(
      this,
      byIds({
        form: "board-filters",
        assignee: "filter-assignee",
        text: "filter-text",
        overdue: "filter-overdue",
        clearButton: "filter-clear",
      }),
    );
    this.usersSignature = null;
    this.listening = new AbortController();
  }

  start() {
    const { signal } = this.listening;
    this.fill();
    this.form.addEventListener("submit", (event) => event.preventDefault(), { signal });
    this.assignee.addEventListener("change", () => this.changed(), { signal });
    this.text.addEventListener("input", () => this.changed(), { signal });
    this.overdue.addEventListener("change", () => this.changed(), { signal });
    this.clearButton.addEventListener(
      "click",
      () => {
        this.filter = { ...NO_FILTER };
        this.fill();
        this.changed();
        this.text.focus();
      },
      { signal },
    );
  }

  /** The board is closing: stop listening and take the filter out of the address. */
  stop() {
    this.listening.abort();
    this.remember({ ...NO_FILTER });
  }

  get filtering() {
    return isFiltering(this.filter);
  }

  fill() {
    this.renderAssignees();
    this.text.value = this.filter.text;
    this.overdue.checked = this.filter.overdue;
    this.clearButton.hidden = !this.filtering;
  }

  changed() {
    this.filter = { assignee: this.assignee.value, text: this.text.value.trim(), overdue: this.overdue.checked };
    this.clearButton.hidden = !this.filtering;
    this.remember(this.filter);
    this.board.render();
  }

  remember(filter) {
    const search = searchWithFilter(window.location.search, filter);
    if (search !== window.location.search) window.history.replaceState(null, "", search + window.location.hash);
  }

  /** Anyone, me, unassigned, then each person (by username); the address's choice kept even if unknown. */
  renderAssignees() {
    const { users, me } = this.board;
    const usernames = [...users.keys()].filter((username) => username !== me).sort();
    const wanted = this.filter.assignee;
    const chosen = wanted && chosenPerson(wanted);
    if (wanted && !["me", "unassigned"].includes(wanted) && !usernames.includes(chosen)) usernames.push(chosen);
    const signature = usernames.join("\n");
    if (signature !== this.usersSignature) {
      this.usersSignature = signature;
      this.assignee.replaceChildren(
        el("option", { value: "", text: "Anyone" }),
        el("option", { value: "me", text: `Me (${me})` }),
        el("option", { value: "unassigned", text: "Unassigned" }),
        ...usernames.map((username) => {
          const user = users.get(username);
          const text = user && user.full_name ? `${user.full_name} (${username})` : username;
          return el("option", { value: personChoice(username), text });
        }),
      );
    }
    this.assignee.value = wanted;
  }
}
