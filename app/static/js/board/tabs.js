// On a phone the board shows one column at a time: tabs above the columns choose
// which, each with its column's count (arrow keys move between them, as in any
// tab list). Wider screens show every column and no tabs (app.css).

import { clear, el } from "../dom.js";
import { COLUMNS } from "../model.js";

const STEPS = { ArrowLeft: -1, ArrowRight: 1 };

export class ColumnTabs {
  constructor(board) {
    this.board = board;
    this.root = document.getElementById("column-tabs");
    this.tabs = new Map(); // column key -> {tab, count}
    this.shown = "in-progress"; // the work under way, first
    this.onKey = (event) => this.key(event);
  }

  /** Make a tab for each column; `sections` maps a column's key to its section. */
  build(sections) {
    clear(this.root);
    this.tabs.clear();
    this.sections = sections;
    for (const column of COLUMNS) {
      const count = el("span", { className: "tab-count" });
      const tab = el(
        "button",
        {
          type: "button",
          className: "column-tab",
          attrs: { role: "tab", "aria-controls": sections.get(column.key).id },
          on: { click: () => this.show(column.key) },
        },
        el("span", { text: column.title }),
        count,
      );
      this.tabs.set(column.key, { tab, count });
      this.root.append(tab);
    }
    this.root.addEventListener("keydown", this.onKey);
    this.show(this.shown);
  }

  stop() {
    this.root.removeEventListener("keydown", this.onKey);
    clear(this.root);
  }

  show(columnKey, { focus = false } = {}) {
    this.shown = columnKey;
    for (const [key, { tab }] of this.tabs) {
      tab.setAttribute("aria-selected", String(key === columnKey));
      tab.tabIndex = key === columnKey ? 0 : -1;
      this.sections.get(key).classList.toggle("is-shown", key === columnKey);
    }
    if (focus) this.tabs.get(columnKey).tab.focus();
  }

  key(event) {
    const keys = COLUMNS.map((column) => column.key);
    const step = STEPS[event.key];
    let index = keys.indexOf(this.shown);
    if (step) index = (index + step + keys.length) % keys.length;
    else if (event.key === "Home") index = 0;
    else if (event.key === "End") index = keys.length - 1;
    else return;
    event.preventDefault();
    this.show(keys[index], { focus: true });
  }

  setCount(columnKey, count) {
    this.tabs.get(columnKey)?.count.replaceChildren(
      String(count),
      el("span", { className: "visually-hidden", text: count === 1 ? " task" : " tasks" }),
    );
  }
}
