// The signed-in session, shared by every tab of this browser on this origin.
//
// The token lives in localStorage (same origin only; never in an address) until
// logout or its expiry. Another tab signing in or out fires the `storage` event
// here, so every tab follows: `onChange` hears of it.

const KEY = "scrumboard.session";

function read() {
  try {
    const stored = JSON.parse(localStorage.getItem(KEY));
    if (stored && typeof stored.token === "string" && typeof stored.username === "string") return stored;
  } catch {
    // Unreadable: as signed out.
  }
  return null;
}

/** The stored session unless it has expired (an expired one is forgotten). */
function current() {
  const stored = read();
  if (stored && stored.expires && Date.parse(stored.expires) <= Date.now()) {
    localStorage.removeItem(KEY);
    return null;
  }
  return stored;
}

export const session = {
  get token() {
    return current()?.token ?? null;
  },
  get username() {
    return current()?.username ?? null;
  },
  /** `expires` is the token's expiry as the server gave it (ISO-8601), or null. */
  save(token, username, expires = null) {
    localStorage.setItem(KEY, JSON.stringify({ token, username, expires }));
  },
  clear() {
    localStorage.removeItem(KEY);
  },
  /** `handler(token)` whenever another tab signs in (the new token) or out (null). */
  onChange(handler) {
    window.addEventListener("storage", (event) => {
      if (event.storageArea === localStorage && (event.key === KEY || event.key === null)) {
        handler(current()?.token ?? null);
      }
    });
  },
};
