// Plain text with its web addresses clickable: nothing else in it is read as
// markup. Only http: and https: addresses become links, so a "javascript:" or
// "data:" address stays text.

const ADDRESS = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?)\]}]+$/; // punctuation that ends a sentence, not the address

/** A web address a link may point to: the parsed URL when it is http(s), else null. */
export function safeHref(candidate) {
  try {
    const url = new URL(candidate);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** `text` as pieces in order: `{text}` for plain text, `{text, href}` for an address. */
export function linkPieces(text) {
  const pieces = [];
  let at = 0;
  const push = (piece) => {
    const last = pieces.at(-1);
    if (!piece.href && last && !last.href) last.text += piece.text;
    else if (piece.text) pieces.push(piece);
  };
  for (const match of String(text).matchAll(ADDRESS)) {
    const address = match[0].replace(TRAILING, "");
    const href = safeHref(address);
    push({ text: text.slice(at, match.index) });
    if (href) push({ text: address, href });
    else push({ text: address });
    at = match.index + address.length;
  }
  push({ text: String(text).slice(at) });
  return pieces;
}

/** The pieces as DOM nodes: text nodes, and <a> elements that open outside the board. */
export function textWithLinks(text) {
  const fragment = document.createDocumentFragment();
  for (const piece of linkPieces(text)) {
    if (!piece.href) {
      fragment.append(document.createTextNode(piece.text));
      continue;
    }
    const link = document.createElement("a");
    link.href = piece.href;
    link.rel = "noopener noreferrer";
    link.target = "_blank";
    link.textContent = piece.text;
    fragment.append(link);
  }
  return fragment;
}
