// Project settings, for its admins: rename it, change members' roles, remove
// members, and add people found by a username search.

import { api, getAll } from "../api.js";
import { announce, byIds, clear, clearFormErrors, el, showFormErrors, uniqueId } from "../dom.js";
import { friendlySentence } from "../messages.js";
import { ROLE_LABELS, ROLES } from "./list.js";

const SEARCH_DELAY = 200; // ms after the last keystroke

function roleOptions(select, selected) {
  clear(select);
  for (const role of ROLES) select.append(el("option", { value: role, text: ROLE_LABELS[role] }));
  select.value = selected;
}

export class ProjectSettings {
  /** `onRenamed(project)` after a rename. */
  constructor({ onRenamed }) {
    this.onRenamed = onRenamed;
    this.project = null;
    this.members = [];
    this.searches = 0;
    Object.assign(
      this,
      byIds({
        dialog: "project-dialog",
        renameForm: "project-rename-form",
        nameInput: "project-name",
        memberList: "project-members",
        search: "member-search",
        newRole: "member-role",
        results: "member-results",
        searchStatus: "member-search-status",
      }),
    );
    roleOptions(this.newRole, "member");

    for (const button of this.dialog.querySelectorAll('[data-action="close"]')) {
      button.addEventListener("click", () => this.close());
    }
    this.dialog.addEventListener("close", () => {
      this.project = null;
    });
    this.renameForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.rename();
    });
    document.getElementById("member-add-form").addEventListener("submit", (event) => event.preventDefault());
    this.search.addEventListener("input", () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = setTimeout(() => this.find(), SEARCH_DELAY);
    });
  }

  get isOpen() {
    return this.dialog.open && this.project !== null;
  }

  async open(project) {
    this.project = project;
    clearFormErrors(this.renameForm);
    this.nameInput.value = project.name;
    this.search.value = "";
    this.showResults([], "");
    clear(this.memberList);
    this.dialog.showModal();
    this.nameInput.focus();
    await this.loadMembers();
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  /** A membership of `projectId` changed (live): show the current members. */
  refresh(projectId) {
    if (this.isOpen && this.project.id === projectId) this.loadMembers();
  }

  async rename() {
    const project = this.project;
    clearFormErrors(this.renameForm);
    const name = this.nameInput.value.trim();
    if (!name) {
      showFormErrors(this.renameForm, { errors: { name: ["Enter a name for the project."] } });
      return;
    }
    try {
      const { body } = await api.patch(`/api/projects/${project.id}`, { name });
      this.project = body;
      this.onRenamed(body);
      announce(`Renamed the project to “${body.name}”.`);
    } catch (error) {
      showFormErrors(this.renameForm, error.body);
    }
  }

  async loadMembers() {
    const project = this.project;
    try {
      const members = await getAll(`/api/projects/${project.id}/members`);
      if (project !== this.project) return;
      this.members = members;
      this.renderMembers();
    } catch (error) {
      if (project === this.project) announce(`The members could not be loaded: ${error.message}`, "error");
    }
  }

  renderMembers() {
    const focused = document.activeElement?.dataset?.member; // keep the keyboard where it was
    clear(this.memberList);
    for (const member of this.members) {
      const selectId = uniqueId("member-role");
      const role = el("select", { id: selectId, dataset: { member: member.username } });
      roleOptions(role, member.role);
      role.addEventListener("change", () => this.changeRole(member, role.value));
      const remove = el("button", {
        type: "button",
        className: "button button-small button-danger-quiet",
        text: "Remove",
        attrs: { "aria-label": `Remove ${member.username}` },
      });
      remove.addEventListener("click", () => this.remove(member));
      this.memberList.append(
        el(
          "li",
          { className: "member" },
          el(
            "span",
            { className: "member-name" },
            el("span", { text: member.username }),
            member.full_name ? el("span", { className: "muted", text: ` ${member.full_name}` }) : null,
          ),
          el("label", { htmlFor: selectId, className: "visually-hidden", text: `Role of ${member.username}` }),
          role,
          remove,
        ),
      );
    }
    if (focused) this.memberList.querySelector(`select[data-member="${CSS.escape(focused)}"]`)?.focus();
  }

  async changeRole(member, role) {
    try {
      await api.put(this.memberPath(member.username), { role });
      announce(`${member.username} is now ${ROLE_LABELS[role].toLowerCase()} of “${this.project.name}”.`);
    } catch (error) {
      announce(friendlySentence("member", error), "error");
    }
    await this.loadMembers(); // the server's roles, whether or not the change went through
  }

  async remove(member) {
    const project = this.project;
    try {
      await api.delete(this.memberPath(member.username));
      announce(`Removed ${member.username} from “${project.name}”.`);
    } catch (error) {
      announce(friendlySentence("member", error), "error");
      return;
    }
    if (project !== this.project) return; // I removed myself: the project is gone from here
    await this.loadMembers();
    this.search.focus();
  }

  memberPath(username) {
    return `/api/projects/${this.project.id}/members/${encodeURIComponent(username)}`;
  }

  /** Look up people whose username contains what was typed; members are left out. */
  async find() {
    const text = this.search.value.trim();
    const search = ++this.searches;
    if (!text) {
      this.showResults([], "");
      return;
    }
    try {
      const people = await getAll(`/api/users?search=${encodeURIComponent(text)}`);
      if (search !== this.searches || !this.project) return;
      const members = new Set(this.members.map((member) => member.username));
      const found = people.filter((user) => !members.has(user.username));
      const count = found.length === 1 ? "1 person found" : `${found.length || "No"} people found`;
      this.showResults(found, `${count} who can be added.`);
    } catch (error) {
      if (search === this.searches) this.showResults([], `The search failed: ${error.message}`);
    }
  }

  showResults(people, status) {
    clear(this.results);
    this.searchStatus.textContent = status;
    for (const user of people) {
      const button = el("button", {
        type: "button",
        className: "button button-small",
        text: `Add ${user.username}`,
        attrs: { title: user.full_name || user.username },
      });
      button.addEventListener("click", () => this.add(user));
      this.results.append(
        el("li", { className: "member-result" }, button, user.full_name ? el("span", { className: "muted", text: user.full_name }) : null),
      );
    }
  }

  async add(user) {
    const role = this.newRole.value;
    try {
      await api.put(this.memberPath(user.username), { role });
      announce(`Added ${user.username} to “${this.project.name}” as ${ROLE_LABELS[role].toLowerCase()}.`);
    } catch (error) {
      announce(friendlySentence("member", error), "error");
      return;
    }
    this.search.value = "";
    this.showResults([], "");
    this.search.focus();
    await this.loadMembers();
  }
}
