// The base subject of RFC 5256 §2.1, which SORT (SUBJECT) and THREAD compare: the decoded
// subject without its "Re:", "Fwd:", "[list]" leaders, "(fwd)" trailers and "[Fwd: ...]"
// wrapping, and whether any of those marked it as a reply or forward (ORDEREDSUBJECT
// and REFERENCES threading need to know).

export interface BaseSubject {
  /** Whitespace runs collapsed to one space; case kept (callers fold it for comparing). */
  text: string;
  /** A "Re:"/"Fwd:" leader, a "(fwd)" trailer or a "[Fwd: ...]" wrapper was removed. */
  replyOrForward: boolean;
}

/** `*subj-blob ("re" / "fw" / "fwd") *WSP [subj-blob] ":"`, blobs being `[...]` without brackets inside. */
const REFWD_LEADER = /^(?:\[[^[\]]*\][ \t]*)*(?:re|fwd?)[ \t]*(?:\[[^[\]]*\][ \t]*)?:/i;
const LEADING_BLOB = /^\[[^[\]]*\][ \t]*/;
const TRAILING_FWD = /\(fwd\)$/i;

/** `subject` already decoded (RFC 2047) to text. */
export function baseSubject(subject: string): BaseSubject {
  let text = subject.replace(/[\t\r\n ]+/g, ' ');
  let replyOrForward = false;
  for (;;) {
    const trailer = removeTrailers(text);
    text = trailer.text;
    replyOrForward ||= trailer.removedFwd;
    const leader = removeLeaders(text);
    text = leader.text;
    replyOrForward ||= leader.removedRefwd;
    // Step 6: "[fwd:" ... "]" around the whole subject.
    if (text.length >= 6 && text.slice(0, 5).toLowerCase() === '[fwd:' && text.endsWith(']')) {
      text = text.slice(5, -1);
      replyOrForward = true;
      continue;
    }
    return { text, replyOrForward };
  }
}

/** Step 2: trailing whitespace and "(fwd)", repeatedly. */
function removeTrailers(input: string): { text: string; removedFwd: boolean } {
  let text = input;
  let removedFwd = false;
  for (;;) {
    const trimmed = text.replace(/ +$/, '');
    if (TRAILING_FWD.test(trimmed)) {
      text = trimmed.slice(0, -5);
      removedFwd = true;
      continue;
    }
    return { text: trimmed, removedFwd };
  }
}

/** Steps 3 to 5: leading whitespace and reply/forward leaders, then one blob when something is left after it. */
function removeLeaders(input: string): { text: string; removedRefwd: boolean } {
  let text = input;
  let removedRefwd = false;
  for (;;) {
    const before = text;
    text = text.replace(/^ +/, '');
    const leader = REFWD_LEADER.exec(text);
    if (leader !== null) {
      text = text.slice(leader[0].length);
      removedRefwd = true;
      continue;
    }
    const blob = LEADING_BLOB.exec(text);
    if (blob !== null && text.slice(blob[0].length).trim() !== '') text = text.slice(blob[0].length);
    if (text === before) return { text, removedRefwd };
  }
}
