// OBJECTID (RFC 8474): stable ids for folders and messages. A folder's MAILBOXID is its
// record id in the account (never reused) with its UIDVALIDITY, so it survives RENAME
// and a folder created again under an old name gets a new one. A message's EMAILID is
// its body's hash: COPY and MOVE keep it, as the RFC asks, and two deliveries of the
// very same bytes share it (the store keeps them once). THREADID is not kept: NIL.

export function mailboxObjectId(folder: { id: number; uidValidity: number }): string {
  return `F${folder.id}-${folder.uidValidity}`;
}

/** 128 bits of the body's SHA-256, in the object-id alphabet. */
export function emailObjectId(blob: string): string {
  return `M${blob.slice(0, 32)}`;
}
